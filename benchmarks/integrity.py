"""Integrity benchmark: honest residents and attackers drawn from ranges, against gunicorn.

``python benchmarks/integrity.py [--seeds 20] [--honest 400] [--verbose]`` builds the demo
city once (its points, with four weeks of residents' responses before, stored with the
response service and swept once). Then, for each seed, it copies that database, starts the
real server as ``make run`` does (``gunicorn`` from the repository root, which reads
``gunicorn.conf.py``: gthread workers, the ``post_worker_init`` hook that starts the sweep
thread and the scan flush; ``SURVEY_TRUSTED_PROXIES=1`` as behind nginx, so each simulated
client has its own address in ``X-Forwarded-For``) and plays two simulated days over HTTP:
every form fetched with GET (page, CSRF token, signed form instance, cookies) and posted.

Nothing calls the sweep: it runs in its own thread in the workers every
``SURVEY_INTEGRITY_SWEEP_SECONDS`` (1 s here instead of 60, so that a seed's two days are
swept within its minute of real time; the benchmark then waits until the sweep has reached
the last response). The only thing the benchmark changes in the server is the clock of
served and submitted times, which follows the simulation (``benchmarks/integrity_app.py``).

Every seed draws its own parameters from ranges:

* honest residents: share behind carrier prefixes (30-70%), completion times (log-normal,
  median 140-280 s, log-sd 0.3-0.5; the fastest few still fall under the reading-time
  model's minimum of about a minute and are excluded as ``TOO_FAST``), how strongly one
  resident's items hang together, how many live in the point's district, browser mix; a
  parents' meeting (20-50 scan within 90 s, in the day) and an official-account push
  (80-200 readers within two hours, sent between 8:00 and 21:00);
* speed bots: size 30-120, 1 to 3-12 s per form, one address or a rotating pool, a script's
  or WeChat's user agent;
* pre-loading bots: 20-60 forms opened 0.2-3 s apart, posted 0.05-1 s apart after 150-500 s,
  addresses rotated or not;
* rotating-address bulk fill at a careful human's pace: 2-6 workers, 60-270 s per form,
  60-200 forms, a random address and browser per form, preset answer ratios question by
  question (top option 45-80%);
* a coached point: 30-80 real residents at their own pace with the "right" answers,
  forgetting one item in 5 to 15;
* staff with several tabs: 1-4 tabs on one phone, 20-50 forms, 45-120 s each, cookies
  cleared between forms.

Cookies: attackers drop theirs between forms (a kept device cookie is refused after its
first response, which would only flatter the figures). It prints per pattern the median and
the worst seed of the share excluded from estimates; for honest residents the share excluded
(median and worst), the share excluded at the attacked points (collateral) and the share
carrying a visible flag (``catalogue.VISIBLE_MASK``). Goals (medians over seeds): >= 90% of
injected responses excluded, <= 2% of honest excluded, <= 10% of honest visibly flagged.
The machine may be shared: wall time is printed, never a goal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import math
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from itsdangerous import URLSafeSerializer  # noqa: E402

from benchmarks.load import Resident  # noqa: E402
from questionnaires import Definition  # noqa: E402
from questionnaires import Question  # noqa: E402

GUNICORN = Path(sys.executable).parent / "gunicorn"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
SECRET = "integrity-benchmark-secret-0123456789"
UA_WECHAT_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; V2149A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0 Mobile Safari/537.36 XWEB/1160065 MicroMessenger/8.0.47 NetType/4G"
)
UA_WECHAT_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44 NetType/WIFI"
)
UA_BROWSERS = (
    "Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AN00) AppleWebKit/537.36 "
    "HuaweiBrowser/14.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "Version/16.6 Mobile/15E148 Safari/604.1",
)
UA_SCRIPT = "python-requests/2.31.0"
CARRIER_PREFIXES = ("111.30.12", "120.229.4", "223.104.7")
PATTERNS = (
    "speed bots",
    "pre-loading bots",
    "rotating bulk fill",
    "coached point",
    "staff with tabs",
)


# --- parameters drawn per seed -----------------------------------------------------------


@dataclass(frozen=True)
class Honest:
    """How the honest residents of one seed behave."""

    carrier_share: float
    duration_median: float
    duration_sigma: float
    item_noise: float
    local_share: float
    android_share: float
    meeting: int
    push: int

    @classmethod
    def draw(cls, rng: random.Random) -> Honest:
        return cls(
            carrier_share=rng.uniform(0.3, 0.7),
            duration_median=rng.uniform(140, 280),
            duration_sigma=rng.uniform(0.3, 0.5),
            item_noise=rng.uniform(0.5, 1.0),
            local_share=rng.uniform(0.8, 0.95),
            android_share=rng.uniform(0.5, 0.8),
            meeting=rng.randint(20, 50),
            push=rng.randint(80, 200),
        )


# --- answers -----------------------------------------------------------------------------


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _ordered(q: Question) -> list[str]:
    """Substantive options of a scale question, best first."""
    scored = [o for o in q.options if o.substantive and o.score is not None]
    return [o.value for o in sorted(scored, key=lambda o: -(o.score or 0))]


def _choices(q: Question) -> list[str]:
    return [o.value for o in q.options if o.value != "other"]


def honest_answers(
    defn: Definition, rng: random.Random, theta: float, street: str, noise: float
) -> dict[str, Any]:
    """A resident's answers: one latent opinion drives every item, plus item noise."""
    aware = theta + rng.gauss(0, 0.6)
    part = theta * 0.5 + rng.gauss(-0.3, 0.8)
    out: dict[str, Any] = {}
    for q in defn.questions:
        values = _choices(q)
        if q.type == "region":
            out[q.key] = street
        elif q.demographic == "age_group":
            out[q.key] = rng.choices(values, weights=(18, 22, 22, 20, 18))[0]
        elif q.type == "scale":
            if rng.random() < 0.04:
                out[q.key] = next(o.value for o in q.options if not o.substantive)
                continue
            ordered = _ordered(q)
            x = theta + rng.gauss(0, noise)
            cuts = [0.9, 0.0, -1.1, -1.8][: len(ordered) - 1]
            out[q.key] = ordered[sum(1 for c in cuts if x < c)]
        elif q.metric in ("awareness", "participation"):
            latent = aware if q.metric == "awareness" else part
            p = _sigmoid(0.4 + latent)
            positive = [v for v in values if v in q.positive]
            negative = [v for v in values if v not in q.positive] or values
            if q.type == "multiple":
                chosen = [v for v in positive if rng.random() < p * 0.8]
                out[q.key] = chosen or [rng.choice(negative)]
            else:
                out[q.key] = rng.choice(positive if rng.random() < p else negative)
        elif q.type == "multiple":
            out[q.key] = rng.sample(values, k=rng.randint(1, min(2, len(values))))
        elif q.type in ("single", "scale"):
            out[q.key] = rng.choice(values)
    return out


@dataclass(frozen=True)
class Ratios:
    """A bulk-fill script's preset answer ratios: top option, second option, the rest."""

    top: float
    second: float

    @classmethod
    def draw(cls, rng: random.Random) -> Ratios:
        top = rng.uniform(0.45, 0.8)
        return cls(top, (1 - top) * rng.uniform(0.5, 0.9))


def ratio_answers(
    defn: Definition, rng: random.Random, ratios: Ratios, streets: list[str]
) -> dict[str, Any]:
    """Per question, the preset ratios, each question drawn on its own."""
    out: dict[str, Any] = {}
    for q in defn.questions:
        values = _choices(q)
        if q.type == "region":
            out[q.key] = rng.choice(streets)
            continue
        if not values:
            continue
        good = _ordered(q) if q.type == "scale" else [v for v in values if v in q.positive]
        good = good or values
        roll = rng.random()
        if roll < ratios.top:
            pick = good[0]
        elif roll < ratios.top + ratios.second:
            pick = good[1] if len(good) > 1 else good[0]
        else:
            pick = rng.choice(values)
        out[q.key] = [pick] if q.type == "multiple" else pick
    return out


def coached_answers(
    defn: Definition, rng: random.Random, street: str, forget: float
) -> dict[str, Any]:
    """The sheet's "right" answers; a coached resident forgets an item now and then."""
    out: dict[str, Any] = {}
    for q in defn.questions:
        values = _choices(q)
        if q.type == "region":
            out[q.key] = street
        elif q.demographic is not None and values:
            out[q.key] = rng.choice(values)  # real people: their own age and sex
        elif q.metric and values:
            good = _ordered(q) if q.type == "scale" else [v for v in values if v in q.positive]
            pick = (good or values)[0] if rng.random() > forget else rng.choice(values)
            out[q.key] = [pick] if q.type == "multiple" else pick
        elif values:
            out[q.key] = [values[0]] if q.type == "multiple" else values[0]
    return out


# --- the simulation ----------------------------------------------------------------------


class Client(Resident):
    """One browser (or one form of a cookie-dropping script): its cookies, address, agent."""

    def __init__(self, port: int, address: str, agent: str) -> None:
        super().__init__(port, {"User-Agent": agent, "X-Forwarded-For": address})


@dataclass
class Form:
    client: Client
    code: str
    hidden: list[tuple[str, str]]


def instance_of(token: str) -> str | None:
    """The form instance id inside a signed ``_inst`` token (its payload, unverified)."""
    try:
        return str(URLSafeSerializer("-").loads_unsafe(token)[1]["i"])
    except Exception:
        return None


@dataclass
class Sim:
    """The event loop in simulated time; what each posted form was."""

    port: int
    clock_file: Path
    defn: Definition
    queue: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    seq: int = 0
    kinds: dict[str, str] = field(default_factory=dict)  # form instance -> pattern
    errors: Counter[str] = field(default_factory=Counter)

    def set_clock(self, moment: float) -> None:
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(f"{moment:.3f}", encoding="ascii")
        os.replace(tmp, self.clock_file)

    def at(self, moment: dt.datetime, action: Callable[[], None]) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (moment.timestamp(), self.seq, action))

    def run(self) -> None:
        while self.queue:
            t, _, action = heapq.heappop(self.queue)
            self.set_clock(t)
            action()

    def open(self, client: Client, code: str) -> Form | None:
        status, _, html = client.request("GET", f"/q/{code}")
        if status != 200:
            self.errors[f"GET {status}"] += 1
            return None
        return Form(client, code, HIDDEN.findall(html))

    def submit(self, form: Form | None, answers: dict[str, Any], kind: str) -> None:
        if form is None:
            return
        pairs = list(form.hidden)
        for key, value in answers.items():
            pairs.extend((key, v) for v in (value if isinstance(value, list) else [value]))
        status, _, _ = form.client.request("POST", f"/q/{form.code}", urlencode(pairs).encode())
        if status != 303:
            self.errors[f"{kind}: POST {status}"] += 1
            return
        instance = instance_of(dict(form.hidden).get("_inst", ""))
        if instance:
            self.kinds[instance] = kind

    def visit(
        self, code: str, served: dt.datetime, seconds: float, answers: dict[str, Any],
        kind: str, address: str, agent: str,
    ) -> None:  # fmt: skip
        """One person (or one form of a script): open at ``served``, submit ``seconds`` later."""
        holder: dict[str, Form | None] = {}

        def open_() -> None:
            holder["form"] = self.open(Client(self.port, address, agent), code)

        def submit() -> None:
            self.submit(holder.get("form"), answers, kind)

        self.at(served, open_)
        self.at(served + dt.timedelta(seconds=seconds), submit)


def random_address(rng: random.Random) -> str:
    """An address anywhere (home broadband, a proxy pool)."""
    octets = (rng.randint(36, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
    return ".".join(str(n) for n in octets)


def daytime(rng: random.Random, day_start: dt.datetime) -> dt.datetime:
    """A moment of a day, residents' hours (China time: mostly 7:00 to 23:00)."""
    hour = rng.choices(range(24), weights=[1, 0.5, 0.3, 0.3, 0.5, 1, 3, 6, 8, 9, 9, 10,
                                           10, 9, 8, 8, 8, 9, 10, 11, 11, 9, 6, 3])[0]  # fmt: skip
    return day_start + dt.timedelta(hours=hour, seconds=rng.uniform(0, 3600))


@dataclass
class World:
    """Points by channel, streets near each point, a latent opinion per point."""

    codes: list[str]
    channel_of: dict[str, str]
    streets_near: dict[str, list[str]]
    all_streets: list[str]
    effect: dict[str, float]
    weight: dict[str, float]
    start: dt.datetime

    def of_channel(self, channel: str) -> list[str]:
        return [c for c in self.codes if self.channel_of[c] == channel]


@dataclass
class Plan:
    """One seed's simulation: the world, the honest parameters, the attacked points."""

    sim: Sim
    world: World
    rng: random.Random
    honest: Honest
    attacked: dict[str, str] = field(default_factory=dict)  # pattern -> point code
    drawn: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resident(self, code: str, served: dt.datetime, kind: str = "honest") -> None:
        rng, world, h = self.rng, self.world, self.honest
        theta = world.effect[code] + rng.gauss(0, 0.8)
        near = world.streets_near[code]
        local = near and rng.random() < h.local_share
        street = rng.choice(near) if local else rng.choice(world.all_streets)
        seconds = rng.lognormvariate(math.log(h.duration_median), h.duration_sigma)
        answers = honest_answers(self.sim.defn, rng, theta, street, h.item_noise)
        self.sim.visit(code, served, seconds, answers, kind, self.address(), self.agent())

    def pick(self, channel: str, label: str) -> str:
        """A point of ``channel`` not used by another pattern, recorded under ``label``."""
        used = set(self.attacked.values())
        free = [c for c in self.world.of_channel(channel) if c not in used]
        code = self.rng.choice(free or [c for c in self.world.codes if c not in used])
        self.attacked[label] = code
        return code

    def address(self) -> str:
        if self.rng.random() < self.honest.carrier_share:
            return f"{self.rng.choice(CARRIER_PREFIXES)}.{self.rng.randint(1, 254)}"
        return random_address(self.rng)

    def agent(self) -> str:
        roll = self.rng.random()
        if roll < self.honest.android_share:
            return UA_WECHAT_ANDROID
        if roll < self.honest.android_share + (1 - self.honest.android_share) * 0.75:
            return UA_WECHAT_IOS
        return self.rng.choice(UA_BROWSERS)


def plan_honest(plan: Plan, n: int, days: int) -> None:
    world, rng = plan.world, plan.rng
    weights = [world.weight[c] for c in world.codes]
    for _ in range(n):
        code = rng.choices(world.codes, weights=weights)[0]
        plan.resident(code, daytime(rng, world.start + dt.timedelta(days=rng.randrange(days))))
    meeting = plan.pick("school", "honest meeting")
    at = world.start + dt.timedelta(days=1, hours=rng.uniform(9, 17))  # China time
    for _ in range(plan.honest.meeting):
        plan.resident(meeting, at + dt.timedelta(seconds=rng.uniform(0, 90)))
    push = plan.pick("wechat", "honest push")
    at = world.start + dt.timedelta(hours=rng.uniform(8, 21))
    for _ in range(plan.honest.push):
        plan.resident(push, at + dt.timedelta(seconds=min(rng.expovariate(1 / 1200), 7200)))


def _attack_time(plan: Plan, days: int) -> dt.datetime:
    return daytime(plan.rng, plan.world.start + dt.timedelta(days=plan.rng.randrange(days)))


def plan_speed_bots(plan: Plan, days: int) -> None:
    rng = plan.rng
    code = plan.pick(rng.choice(("wechat", "media")), "speed bots")
    n, slowest = rng.randint(30, 120), rng.uniform(3, 12)
    rotate, script = rng.random() < 0.5, rng.random() < 0.5
    plan.drawn["speed bots"] = {"n": n, "slowest": round(slowest), "rotate": rotate}
    fixed = f"47.96.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    t = _attack_time(plan, days)
    for _ in range(n):
        seconds = rng.uniform(1, slowest)
        agent = UA_SCRIPT if script else rng.choice((UA_WECHAT_ANDROID, UA_WECHAT_IOS))
        answers = ratio_answers(plan.sim.defn, rng, Ratios(0.7, 0.25), plan.world.all_streets)
        address = random_address(rng) if rotate else fixed
        plan.sim.visit(code, t, seconds, answers, "speed bots", address, agent)
        t += dt.timedelta(seconds=seconds + rng.uniform(0.5, 3))


def plan_preloaders(plan: Plan, days: int) -> None:
    rng = plan.rng
    code = plan.pick(rng.choice(("market", "transit")), "pre-loading bots")
    n, wait = rng.randint(20, 60), rng.uniform(150, 500)
    open_gap, post_gap = rng.uniform(0.2, 3), rng.uniform(0.05, 1.0)
    rotate = rng.random() < 0.7
    plan.drawn["pre-loading bots"] = {"n": n, "wait": round(wait), "open_gap": round(open_gap, 1)}
    at = _attack_time(plan, days)
    fixed = random_address(rng)
    ratios = Ratios.draw(rng)
    for i in range(n):
        served = at + dt.timedelta(seconds=i * open_gap)
        submitted = at + dt.timedelta(seconds=n * open_gap + wait + i * post_gap)
        plan.sim.visit(
            code, served, (submitted - served).total_seconds(),
            ratio_answers(plan.sim.defn, rng, ratios, plan.world.all_streets),
            "pre-loading bots", random_address(rng) if rotate else fixed,
            rng.choice((UA_WECHAT_ANDROID, UA_WECHAT_IOS)),
        )  # fmt: skip


def plan_rotating(plan: Plan, days: int) -> None:
    rng = plan.rng
    code = plan.pick(rng.choice(("media", "wechat")), "rotating bulk fill")
    workers, n = rng.randint(2, 6), rng.randint(60, 200)
    low = rng.uniform(60, 120)
    high = low + rng.uniform(60, 150)
    ratios = Ratios.draw(rng)
    plan.drawn["rotating bulk fill"] = {
        "workers": workers, "n": n, "seconds": f"{low:.0f}-{high:.0f}",
        "top": round(ratios.top, 2),
    }  # fmt: skip
    at = _attack_time(plan, days)
    for worker in range(workers):
        t = at + dt.timedelta(seconds=worker * rng.uniform(5, 60))
        for _ in range(n // workers):
            seconds = rng.uniform(low, high)
            agent = rng.choice((UA_WECHAT_ANDROID, UA_WECHAT_IOS, *UA_BROWSERS))
            plan.sim.visit(
                code, t, seconds, ratio_answers(plan.sim.defn, rng, ratios, plan.world.all_streets),
                "rotating bulk fill", random_address(rng), agent,
            )  # fmt: skip
            t += dt.timedelta(seconds=seconds + rng.uniform(1, 30))


def plan_coached(plan: Plan, days: int) -> None:
    rng = plan.rng
    code = plan.pick("school", "coached point")
    n, forget = rng.randint(30, 80), 1 / rng.uniform(5, 15)
    plan.drawn["coached point"] = {"n": n, "forget": round(forget, 2)}
    near = plan.world.streets_near[code] or plan.world.all_streets
    h = plan.honest
    for _ in range(n):
        served = daytime(rng, plan.world.start + dt.timedelta(days=rng.randrange(days)))
        plan.sim.visit(
            code, served, rng.lognormvariate(math.log(h.duration_median * 0.8), h.duration_sigma),
            coached_answers(plan.sim.defn, rng, rng.choice(near), forget), "coached point",
            plan.address(), plan.agent(),
        )  # fmt: skip


def plan_tabs(plan: Plan, days: int) -> None:
    rng = plan.rng
    code = plan.pick("door_to_door", "staff with tabs")
    tabs, n = rng.randint(1, 4), rng.randint(20, 50)
    plan.drawn["staff with tabs"] = {"tabs": tabs, "n": n}
    address = f"{rng.choice(CARRIER_PREFIXES)}.{rng.randint(1, 254)}"
    near = plan.world.streets_near[code] or plan.world.all_streets
    t = _attack_time(plan, days)
    for i in range(0, n, tabs):
        batch = min(tabs, n - i)
        longest = 0.0
        for tab in range(batch):
            seconds = rng.uniform(45, 120) + tab * rng.uniform(5, 20)
            longest = max(longest, seconds)
            theta = 1.2 + rng.gauss(0, 0.5)
            plan.sim.visit(
                code, t + dt.timedelta(seconds=tab * rng.uniform(1, 4)), seconds,
                honest_answers(plan.sim.defn, rng, theta, rng.choice(near), 0.6),
                "staff with tabs", address, UA_WECHAT_ANDROID,
            )  # fmt: skip
        t += dt.timedelta(seconds=longest + rng.uniform(3, 15))


ATTACKS = (plan_speed_bots, plan_preloaders, plan_rotating, plan_coached, plan_tabs)


# --- the server --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``gunicorn benchmarks.integrity_app:app`` from the repository root."""

    def __init__(self, db_path: Path, work: Path, clock: Path, sweep_seconds: float) -> None:
        self.port = _free_port()
        self.log = (work / "gunicorn.err").open("wb")
        env = {
            **os.environ,
            "SURVEY_DATABASE_URL": f"sqlite:///{db_path}",
            "SURVEY_SECRET_KEY": SECRET,
            "SURVEY_INSTANCE_PATH": str(work / "instance"),
            "SURVEY_BASE_URL": "http://127.0.0.1",
            "SURVEY_TRUSTED_PROXIES": "1",
            "SURVEY_ACCESS_LOG": str(work / "access.log"),
            "SURVEY_INTEGRITY_SWEEP_SECONDS": str(sweep_seconds),
            "SURVEY_BENCH_CLOCK": str(clock),
            "PYTHONPATH": str(ROOT),
        }
        cmd = [str(GUNICORN), "--bind", f"127.0.0.1:{self.port}", "benchmarks.integrity_app:app"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=self.log)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if Resident(self.port).request("GET", "/api/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not start: " + (work / "gunicorn.err").read_text())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def build_template(work: Path, history: int, days: int) -> tuple[Path, Definition, World]:
    """The demo city with ``history`` residents' responses over the four weeks before the
    simulated days (stored with the service, not over HTTP, from the same resident model),
    swept once."""
    from survey import create_app
    from survey.bootstrap import seed_demo_city
    from survey.extensions import db
    from survey.migrate import upgrade
    from survey.services.integrity.sweep import sweep_all

    path = work / "template.db"
    (work / "template-instance").mkdir()
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "SECRET_KEY": SECRET,
            "INSTANCE_PATH": str(work / "template-instance"),
            "BASE_URL": "http://127.0.0.1",
        }
    )
    upgrade(app)
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days + 1)).replace(
        hour=16, minute=0, second=0, microsecond=0
    )  # midnight in China
    with app.app_context():
        seed_demo_city()
        db.session.commit()
        defn, world = _world(start)
        _history(defn, world, history)
        db.session.commit()
        sweep_all(now=start)
        db.session.remove()
        db.engine.dispose()
    return path, defn, world


def _world(start: dt.datetime) -> tuple[Definition, World]:
    from survey.extensions import db
    from survey.models import CollectionPoint
    from survey.models import Region
    from survey.services.questionnaires import definition_of

    points = list(
        db.session.execute(db.select(CollectionPoint).order_by(CollectionPoint.id)).scalars()
    )
    streets = list(db.session.execute(db.select(Region).where(Region.level == "street")).scalars())
    rng = random.Random(0)
    world = World(
        codes=[p.code for p in points],
        channel_of={p.code: p.channel.code for p in points},
        streets_near={
            p.code: [
                s.code for s in streets
                if s.path.startswith("/".join(p.region.path.split("/")[:3]) + "/")
            ]
            for p in points
        },
        all_streets=[s.code for s in streets],
        effect={
            p.code: rng.gauss(0, 0.3) + (0.4 if p.channel.code == "wechat" else 0.0)
            for p in points
        },
        weight={p.code: (4.0 if p.channel.code == "wechat" else 1.0) for p in points},
        start=start,
    )  # fmt: skip
    return definition_of(points[0].questionnaire_version), world


def _history(defn: Definition, world: World, n: int) -> None:
    """``n`` residents of the last four weeks, stored with the response service."""
    from survey.extensions import db
    from survey.models import CollectionPoint
    from survey.services.integrity.screening import Screen
    from survey.services.responses import placement_of
    from survey.services.responses import store_response

    rng = random.Random(1)
    honest = Honest.draw(rng)
    points = {p.code: p for p in db.session.execute(db.select(CollectionPoint)).scalars()}
    placements = {code: placement_of(p) for code, p in points.items()}
    weights = [world.weight[c] for c in world.codes]
    for i in range(n):
        code = rng.choices(world.codes, weights=weights)[0]
        served = daytime(rng, world.start - dt.timedelta(days=rng.randint(1, 28)))
        seconds = rng.lognormvariate(math.log(honest.duration_median), honest.duration_sigma)
        near = world.streets_near[code] or world.all_streets
        theta = world.effect[code] + rng.gauss(0, 0.8)
        store_response(
            placements[code],
            defn,
            honest_answers(defn, rng, theta, rng.choice(near), honest.item_noise),
            served_at=served,
            submitted_at=served + dt.timedelta(seconds=seconds),
            device_hash=f"history-{i}",
            form_instance=f"history-{i}",
            screen=Screen(network_hash=f"net-{rng.randrange(5000)}", agent_hash="wx"),
        )


# --- one seed ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one seed measured."""

    seed: int
    n: dict[str, int]
    excluded: dict[str, int]
    visible: dict[str, int]
    collateral_n: int
    collateral_x: int
    codes: dict[str, Counter[str]]
    errors: Counter[str]
    drawn: dict[str, dict[str, Any]]
    seconds: float

    def share(self, kind: str, what: str = "excluded") -> float:
        table = self.excluded if what == "excluded" else self.visible
        return table.get(kind, 0) / self.n[kind] if self.n.get(kind) else float("nan")

    @property
    def injected(self) -> float:
        n = sum(self.n.get(k, 0) for k in PATTERNS)
        return sum(self.excluded.get(k, 0) for k in PATTERNS) / n if n else float("nan")


def run_seed(
    seed: int, template: Path, defn: Definition, world: World, work: Path, args: Any
) -> Outcome:
    t0 = time.perf_counter()
    rng = random.Random(seed)
    work.mkdir()
    db_path = work / "survey.db"
    shutil.copyfile(template, db_path)
    clock = work / "clock"
    sim = Sim(0, clock, defn)
    sim.set_clock(world.start.timestamp())
    plan = Plan(sim, world, rng, Honest.draw(rng))
    plan_honest(plan, args.honest, args.days)
    for attack in ATTACKS:
        attack(plan, args.days)
    before = _max_id(db_path)
    server = Server(db_path, work, clock, args.sweep_seconds)
    try:
        sim.port = server.port
        sim.run()
        _wait_for_sweep(db_path, timeout=600)
    finally:
        server.stop()
    return _measure(seed, db_path, before, sim, plan, time.perf_counter() - t0)


def _max_id(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM responses").fetchone()[0])


def _wait_for_sweep(path: Path, timeout: float) -> None:
    """Until the background sweep has examined the last response."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(path, timeout=30) as conn:
            row = conn.execute("SELECT watermark, failure FROM integrity_state").fetchone()
            last = conn.execute("SELECT coalesce(max(id), 0) FROM responses").fetchone()[0]
        if row and row[1]:
            print(f"  sweep failure on the page: {row[1]}", flush=True)
        if row and row[0] >= last:
            return
        time.sleep(1.0)
    raise RuntimeError("the background sweep did not catch up")


def _measure(seed: int, path: Path, before: int, sim: Sim, plan: Plan, seconds: float) -> Outcome:
    from survey.models import QualityFlag
    from survey.services.integrity.catalogue import KINDS
    from survey.services.integrity.catalogue import VISIBLE_MASK

    excluded_bit = int(QualityFlag.EXCLUDED)
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT r.form_instance, r.flags, p.code FROM responses r "
            "JOIN collection_points p ON p.id = r.point_id WHERE r.id > ?",
            (before,),
        ).fetchall()
    attacked = {code for label, code in plan.attacked.items() if label in PATTERNS}
    n: Counter[str] = Counter()
    x: Counter[str] = Counter()
    v: Counter[str] = Counter()
    codes: dict[str, Counter[str]] = defaultdict(Counter)
    coll_n = coll_x = 0
    for instance, flags, code in rows:
        kind = sim.kinds.get(instance or "", "unknown")
        n[kind] += 1
        x[kind] += bool(flags & excluded_bit)
        v[kind] += bool(flags & VISIBLE_MASK)
        codes[kind].update(k.code for k in KINDS if flags & int(k.flag))
        if kind == "honest" and flags & excluded_bit:
            codes["honest excluded"].update(k.code for k in KINDS if flags & int(k.flag))
        if kind == "honest" and code in attacked:
            coll_n += 1
            coll_x += bool(flags & excluded_bit)
    return Outcome(
        seed, dict(n), dict(x), dict(v), coll_n, coll_x, dict(codes), sim.errors,
        plan.drawn, seconds,
    )  # fmt: skip


# --- report ------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return "  -  " if math.isnan(value) else f"{value:6.1%}"


def report(outcomes: list[Outcome]) -> bool:
    print(f"\n{len(outcomes)} seeds; per pattern: share of injected responses excluded")
    print(f"{'pattern':<22}{'responses':>10}{'median':>9}{'worst':>9}  worst seed, its draw")
    for kind in PATTERNS:
        shares = [(o.share(kind), o) for o in outcomes if o.n.get(kind)]
        if not shares:
            continue
        med = statistics.median(s for s, _ in shares)
        worst, o = min(shares, key=lambda t: t[0])
        total = sum(o2.n[kind] for _, o2 in shares)
        print(
            f"{kind:<22}{total:>10}{_pct(med):>9}{_pct(worst):>9}  seed {o.seed} "
            f"{o.drawn.get(kind, {})}"
        )
    injected = [o.injected for o in outcomes]
    honest_x = [o.share("honest") for o in outcomes]
    honest_v = [o.share("honest", "visible") for o in outcomes]
    collateral = [o.collateral_x / o.collateral_n for o in outcomes if o.collateral_n]
    print(f"{'all injected':<22}{'':>10}{_pct(statistics.median(injected)):>9}"
          f"{_pct(min(injected)):>9}")  # fmt: skip
    n_honest = sum(o.n.get("honest", 0) for o in outcomes)
    print("honest residents (share per seed; worst = highest)")
    print(f"{'  excluded':<22}{n_honest:>10}{_pct(statistics.median(honest_x)):>9}"
          f"{_pct(max(honest_x)):>9}")  # fmt: skip
    print(f"{'  visibly flagged':<22}{n_honest:>10}{_pct(statistics.median(honest_v)):>9}"
          f"{_pct(max(honest_v)):>9}")  # fmt: skip
    if collateral:
        n_coll = sum(o.collateral_n for o in outcomes)
        print(f"{'  collateral':<22}{n_coll:>10}{_pct(statistics.median(collateral)):>9}"
              f"{_pct(max(collateral)):>9}  (honest excluded at the attacked points)")  # fmt: skip
    _codes(outcomes)
    errors = sum((o.errors for o in outcomes), Counter())
    if errors:
        print("refused requests:", dict(errors))
    goals = [
        (statistics.median(injected) >= 0.9, ">= 90% injected excluded"),
        (statistics.median(honest_x) <= 0.02, "<= 2% honest excluded"),
        (statistics.median(honest_v) <= 0.10, "<= 10% honest visibly flagged"),
    ]
    for ok, goal in goals:
        print(f"goal (median over seeds) {goal}: {'met' if ok else 'NOT met'}")
    return all(ok for ok, _ in goals)


def _codes(outcomes: list[Outcome]) -> None:
    print("flags seen (all seeds)")
    for kind in (*PATTERNS, "honest", "honest excluded"):
        total: Counter[str] = sum((o.codes.get(kind, Counter()) for o in outcomes), Counter())
        base = "honest" if kind.startswith("honest") else kind
        n = sum(o.n.get(base, 0) for o in outcomes) or 1
        top = ", ".join(f"{c} {k / n:.0%}" for c, k in total.most_common(6))
        print(f"  {kind:<20} {top}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--honest", type=int, default=500, help="honest residents per seed")
    parser.add_argument("--days", type=int, default=2, help="simulated days per seed")
    parser.add_argument("--history", type=int, default=4000, help="responses before")
    parser.add_argument("--sweep-seconds", type=float, default=1.0)
    parser.add_argument("--verbose", action="store_true", help="each seed's draws and flags")
    args = parser.parse_args()
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="survey-integrity-") as tmp:
        work = Path(tmp)
        template, defn, world = build_template(work, args.history, args.days)
        took = time.perf_counter() - started
        print(f"template: {args.history} residents' responses before, {took:.0f} s")
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            o = run_seed(seed, template, defn, world, work / f"seed-{seed}", args)
            outcomes.append(o)
            print(
                f"seed {seed}: {sum(o.n.values())} responses, injected {_pct(o.injected)}, "
                + " ".join(f"{k.split()[0]} {_pct(o.share(k))}" for k in PATTERNS)
                + f"; honest x {_pct(o.share('honest'))} v {_pct(o.share('honest', 'visible'))}"
                + f", {o.seconds:.0f} s",
                flush=True,
            )
            if args.verbose:
                print(
                    f"  drawn {o.drawn}; honest excluded by "
                    f"{dict(o.codes.get('honest excluded', {}))}"
                )
                for kind in PATTERNS:
                    print(f"  {kind}: {dict(o.codes.get(kind, {}))}")
            shutil.rmtree(work / f"seed-{seed}", ignore_errors=True)
    ok = report(outcomes)
    print(f"wall time {time.perf_counter() - started:.0f} s (shared machine)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
