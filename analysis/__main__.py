from __future__ import annotations

from analysis._cli import main

raise SystemExit(main())
