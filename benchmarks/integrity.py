"""Integrity benchmark: honest residents and injected fraud through the real HTTP flow.

One command (``python benchmarks/integrity.py``) builds the demo city on a fresh SQLite file
with twelve weeks of history, serves the real app over loopback HTTP (behind Werkzeug's
ProxyFix, as behind nginx, so each simulated client has its own address) and plays a seeded
simulation of several days:

* honest residents: realistic completion times (log-normal, median 3 minutes), answers from
  a latent-opinion model (items of one resident hang together), daytime arrivals, half of
  them behind three carrier address prefixes, a parents' meeting where 40 scan at once, and
  an official-account push that brings 200 residents within two hours;
* injected patterns: speed bots; patient bots that pre-load 50 forms, wait past the reading
  time and submit them together; a rotating-address bulk fill with preset answer ratios;
  a coached point where everyone gives the "right" answers; a staff member filling forms one
  after another at one point (cookies cleared between forms).

Every form is fetched with GET (real page, CSRF token, signed form instance, cookies) and
posted back; the integrity sweep runs every ten simulated minutes. Time is simulated: the
server's clock for served and submitted times follows the simulation (patched in the two
modules that read it), everything else is the production code. It prints, per pattern, the
share of injected responses excluded from estimates (a strong flag) and flagged at all, the
same for honest residents, and the three metrics with all responses, with excluded
responses left out, and for honest residents only (the truth, with its 95% interval).
Goals: >= 90% of injected excluded, <= 2% of honest excluded, estimates within the truth's
intervals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import logging
import math
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from itsdangerous import URLSafeSerializer  # noqa: E402
from werkzeug.middleware.proxy_fix import ProxyFix  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from benchmarks.load import Resident  # noqa: E402
from questionnaires import Definition  # noqa: E402
from questionnaires import Question  # noqa: E402

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
CARRIER_PREFIXES = ("111.30.12", "120.229.4", "223.104.7")


class Clock:
    """The simulated time the server reads for served and submitted times."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


# --- HTTP --------------------------------------------------------------------------------


class Client(Resident):
    """One browser (or one form of a cookie-dropping script): its cookies, address, agent."""

    def __init__(self, port: int, address: str, agent: str) -> None:
        super().__init__(port, {"User-Agent": agent, "X-Forwarded-For": address})


@dataclass
class Form:
    """A served form: its client, point code and hidden fields."""

    client: Client
    code: str
    hidden: list[tuple[str, str]]


# --- answers -----------------------------------------------------------------------------


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _ordered(q: Question) -> list[str]:
    """Substantive options of a scale question, best first."""
    scored = [o for o in q.options if o.substantive and o.score is not None]
    return [o.value for o in sorted(scored, key=lambda o: -(o.score or 0))]


def honest_answers(
    defn: Definition, rng: random.Random, theta: float, street: str
) -> dict[str, Any]:
    """A resident's answers: one latent opinion drives every item, plus item noise."""
    aware = theta + rng.gauss(0, 0.6)
    part = theta * 0.5 + rng.gauss(-0.3, 0.8)
    out: dict[str, Any] = {}
    for q in defn.questions:
        values = [o.value for o in q.options if o.value != "other"]
        if q.type == "region":
            out[q.key] = street
        elif q.demographic == "age_group":
            out[q.key] = rng.choices(values, weights=(18, 22, 22, 20, 18))[0]
        elif q.type == "scale":
            if rng.random() < 0.04:
                out[q.key] = next(o.value for o in q.options if not o.substantive)
                continue
            ordered = _ordered(q)
            x = theta + rng.gauss(0, 0.75)
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


def preset_answers(defn: Definition, rng: random.Random, streets: list[str]) -> dict[str, Any]:
    """A bulk-fill script's answers: per question, preset ratios, each question on its own."""
    out: dict[str, Any] = {}
    for q in defn.questions:
        values = [o.value for o in q.options if o.value != "other"]
        if q.type == "region":
            out[q.key] = rng.choice(streets)
            continue
        if not values:
            continue
        good = _ordered(q) if q.type == "scale" else [v for v in values if v in q.positive]
        good = good or values
        roll = rng.random()
        if roll < 0.7:
            pick = good[0]
        elif roll < 0.95:
            pick = good[1] if len(good) > 1 else good[0]
        else:
            pick = rng.choice(values)
        out[q.key] = [pick] if q.type == "multiple" else pick
    return out


def coached_answers(defn: Definition, rng: random.Random, street: str) -> dict[str, Any]:
    """The sheet's "right" answers; a coached resident forgets one item in twelve."""
    out = preset_answers(defn, random.Random(0), [street])
    for q in defn.questions:
        values = [o.value for o in q.options if o.value != "other"]
        if q.type == "region":
            out[q.key] = street
        elif q.demographic is not None and values:
            out[q.key] = rng.choice(values)  # real people: their own age and sex
        elif q.metric and values:
            good = _ordered(q) if q.type == "scale" else [v for v in values if v in q.positive]
            pick = (good or values)[0] if rng.random() > 1 / 12 else rng.choice(values)
            out[q.key] = [pick] if q.type == "multiple" else pick
    return out


def body(form: Form, answers: dict[str, Any]) -> bytes:
    pairs = list(form.hidden)
    for key, value in answers.items():
        for v in value if isinstance(value, list) else [value]:
            pairs.append((key, v))
    return urlencode(pairs).encode()


# --- the simulation ----------------------------------------------------------------------


@dataclass
class Sim:
    """The event loop in simulated time and what it records."""

    port: int
    clock: Clock
    defn: Definition
    instance_of: Callable[[str], str | None]
    queue: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    seq: int = 0
    kinds: dict[str, str] = field(default_factory=dict)  # form instance -> pattern
    errors: Counter[str] = field(default_factory=Counter)

    def at(self, moment: dt.datetime, action: Callable[[], None]) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (moment.timestamp(), self.seq, action))

    def run(self, until: dt.datetime, every: dt.timedelta, tick: Callable[[], None]) -> None:
        next_tick = self.clock.now + every
        while self.queue:
            t, _, action = heapq.heappop(self.queue)
            moment = dt.datetime.fromtimestamp(t, dt.UTC)
            while moment >= next_tick:
                self.clock.now = next_tick
                tick()
                next_tick += every
            self.clock.now = moment
            action()
        self.clock.now = until

    def open(self, client: Client, code: str) -> Form | None:
        status, _, html = client.request("GET", f"/q/{code}")
        if status != 200:
            self.errors[f"GET {status}"] += 1
            return None
        return Form(client, code, HIDDEN.findall(html))

    def submit(self, form: Form | None, answers: dict[str, Any], kind: str) -> None:
        if form is None:
            return
        status, _, _ = form.client.request("POST", f"/q/{form.code}", body(form, answers))
        if status != 303:
            self.errors[f"{kind}: POST {status}"] += 1
            return
        token = dict(form.hidden).get("_inst", "")
        instance = self.instance_of(token)
        if instance:
            self.kinds[instance] = kind

    def visit(
        self, code: str, served: dt.datetime, seconds: float, answers: dict[str, Any],
        kind: str, address: str, agent: str,
    ) -> None:  # fmt: skip
        """One person: open the form at ``served``, submit after ``seconds``."""
        client = Client(self.port, address, agent)
        holder: dict[str, Form | None] = {}

        def open_() -> None:
            holder["form"] = self.open(client, code)
            self.at(served + dt.timedelta(seconds=seconds), submit)

        def submit() -> None:
            self.submit(holder.get("form"), answers, kind)

        self.at(served, open_)


def random_address(rng: random.Random) -> str:
    """An address anywhere (home broadband, a proxy pool)."""
    octets = (rng.randint(36, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
    return ".".join(str(n) for n in octets)


def resident_address(rng: random.Random) -> str:
    """Half of the residents come through one of three carrier prefixes."""
    if rng.random() < 0.5:
        return f"{rng.choice(CARRIER_PREFIXES)}.{rng.randint(1, 254)}"
    return random_address(rng)


def resident_agent(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.68:
        return UA_WECHAT_ANDROID
    if roll < 0.93:
        return UA_WECHAT_IOS
    return rng.choice(UA_BROWSERS)


def daytime(rng: random.Random, day_start: dt.datetime) -> dt.datetime:
    """A moment of a day, residents' hours (China time: mostly 7:00 to 23:00)."""
    hour = rng.choices(range(24), weights=[1, 0.5, 0.3, 0.3, 0.5, 1, 3, 6, 8, 9, 9, 10,
                                           10, 9, 8, 8, 8, 9, 10, 11, 11, 9, 6, 3])[0]  # fmt: skip
    return day_start + dt.timedelta(hours=hour, seconds=rng.uniform(0, 3600))


@dataclass
class World:
    """Points by channel, streets by point, a latent opinion per point."""

    codes: list[str]
    channel_of: dict[str, str]
    streets_near: dict[str, list[str]]
    all_streets: list[str]
    effect: dict[str, float]
    weight: dict[str, float]

    def of_channel(self, channel: str) -> list[str]:
        return [c for c in self.codes if self.channel_of[c] == channel]


def plan_honest(
    sim: Sim, world: World, rng: random.Random, start: dt.datetime, days: int, n: int
) -> None:
    codes = world.codes
    weights = [world.weight[c] for c in codes]
    for _ in range(n):
        code = rng.choices(codes, weights=weights)[0]
        day = start + dt.timedelta(days=rng.randrange(days))
        served = daytime(rng, day)
        plan_resident(sim, world, rng, code, served, "honest")


def plan_resident(
    sim: Sim, world: World, rng: random.Random, code: str, served: dt.datetime, kind: str
) -> None:
    theta = world.effect[code] + rng.gauss(0, 0.8)
    near = world.streets_near[code]
    street = rng.choice(near) if near and rng.random() < 0.9 else rng.choice(world.all_streets)
    seconds = rng.lognormvariate(math.log(180), 0.4)
    sim.visit(
        code, served, seconds, honest_answers(sim.defn, rng, theta, street), kind,
        resident_address(rng), resident_agent(rng),
    )  # fmt: skip


def plan_meeting(sim: Sim, world: World, rng: random.Random, code: str, at: dt.datetime) -> None:
    """A parents' meeting: 40 scan within 90 seconds when told to, each reads at their pace."""
    for _ in range(40):
        plan_resident(
            sim, world, rng, code, at + dt.timedelta(seconds=rng.uniform(0, 90)), "honest"
        )


def plan_push(sim: Sim, world: World, rng: random.Random, code: str, at: dt.datetime) -> None:
    """An official-account push: 200 readers within two hours, most in the first minutes."""
    for _ in range(200):
        delay = min(rng.expovariate(1 / 1200), 7200)
        plan_resident(sim, world, rng, code, at + dt.timedelta(seconds=delay), "honest")


def plan_speed_bots(
    sim: Sim, world: World, rng: random.Random, code: str, at: dt.datetime, n: int
) -> None:
    """A script that drops its cookies and posts each form within seconds."""
    t = at
    address = f"47.96.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    for _ in range(n):
        seconds = rng.uniform(1, 8)
        answers = preset_answers(sim.defn, rng, world.all_streets)
        sim.visit(code, t, seconds, answers, "speed bots", address, "python-requests/2.31.0")
        t += dt.timedelta(seconds=seconds + rng.uniform(0.5, 3))


def plan_preloaders(sim: Sim, world: World, rng: random.Random, code: str, at: dt.datetime) -> None:
    """A patient bot: opens 50 forms in 30 s, waits past the reading time, posts them in 5 s."""
    wait = rng.uniform(200, 300)
    for i in range(50):
        served = at + dt.timedelta(seconds=i * 0.6)
        submitted = at + dt.timedelta(seconds=wait + i * 0.1)
        address = f"{rng.randint(36, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.9"
        sim.visit(
            code, served, (submitted - served).total_seconds(),
            preset_answers(sim.defn, rng, world.all_streets), "patient bots (pre-loaded)",
            address, rng.choice((UA_WECHAT_ANDROID, UA_WECHAT_IOS)),
        )  # fmt: skip


def plan_rotating(
    sim: Sim, world: World, rng: random.Random, code: str, at: dt.datetime, n: int
) -> None:
    """Bulk fill with rotating addresses, rotating agents and preset answer ratios.

    Five workers, each: open a form, wait 70-200 s (past any fixed threshold), post, repeat.
    """
    per = n // 5
    for worker in range(5):
        t = at + dt.timedelta(seconds=worker * 13)
        for _ in range(per):
            seconds = rng.uniform(70, 200)
            address = random_address(rng)
            agent = rng.choice((UA_WECHAT_ANDROID, UA_WECHAT_IOS, *UA_BROWSERS))
            sim.visit(
                code, t, seconds, preset_answers(sim.defn, rng, world.all_streets),
                "rotating-address bulk fill", address, agent,
            )  # fmt: skip
            t += dt.timedelta(seconds=seconds + rng.uniform(1, 5))


def plan_coached(
    sim: Sim, world: World, rng: random.Random, code: str, start: dt.datetime, days: int
) -> None:
    """A coached point: real residents at their own pace, all with the "right" answers."""
    near = world.streets_near[code] or world.all_streets
    for _ in range(60):
        served = daytime(rng, start + dt.timedelta(days=rng.randrange(days)))
        sim.visit(
            code, served, rng.lognormvariate(math.log(150), 0.35),
            coached_answers(sim.defn, rng, rng.choice(near)), "coached point",
            resident_address(rng), resident_agent(rng),
        )  # fmt: skip


def plan_staff(sim: Sim, world: World, rng: random.Random, code: str, at: dt.datetime) -> None:
    """A staff member filling 40 forms one after another on one phone, clearing cookies."""
    t = at
    address = f"{CARRIER_PREFIXES[0]}.77"
    near = world.streets_near[code] or world.all_streets
    for _ in range(40):
        seconds = rng.uniform(60, 110)
        theta = 1.2 + rng.gauss(0, 0.5)
        sim.visit(
            code, t, seconds, honest_answers(sim.defn, rng, theta, rng.choice(near)),
            "staff filling one after another", address, UA_WECHAT_ANDROID,
        )  # fmt: skip
        t += dt.timedelta(seconds=seconds + rng.uniform(3, 15))


# --- measuring ---------------------------------------------------------------------------


def interval(values: list[float]) -> tuple[float, float, float, int]:
    """Mean, 95% interval (normal approximation) and n of per-response values."""
    n = len(values)
    if n < 2:
        return (float("nan"),) * 3 + (n,)  # type: ignore[return-value]
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = 1.96 * math.sqrt(var / n)
    return mean, mean - half, mean + half, n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--honest", type=int, default=3000, help="honest residents")
    parser.add_argument("--days", type=int, default=3, help="simulated days")
    parser.add_argument("--history", type=int, default=6000, help="demo responses before")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    with tempfile.TemporaryDirectory(prefix="survey-integrity-") as tmp:
        return run(Path(tmp), args, rng, started)


def run(work: Path, args: argparse.Namespace, rng: random.Random, started: float) -> int:
    from survey import create_app
    from survey import demo
    from survey.bootstrap import seed_demo_city
    from survey.extensions import db
    from survey.migrate import upgrade
    from survey.models import CollectionPoint
    from survey.models import QualityFlag
    from survey.models import Region
    from survey.models import Response
    from survey.services import form_tokens
    from survey.services import responses
    from survey.services.integrity.sweep import sweep
    from survey.services.integrity.sweep import sweep_all
    from survey.services.questionnaires import definition_of

    instance = work / "instance"
    instance.mkdir()
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{work / 'survey.db'}",
            "SECRET_KEY": SECRET,
            "INSTANCE_PATH": str(instance),
            "BASE_URL": "http://127.0.0.1",
            "INTEGRITY_SWEEP_SECONDS": 0,  # the simulation sweeps in simulated time
            "SCAN_FLUSH_SECONDS": 60,
        }
    )
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    upgrade(app)
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=args.days + 1)).replace(
        minute=0, second=0, microsecond=0
    )
    start = start.replace(hour=16)  # midnight in China
    with app.app_context():
        seed_demo_city()
        db.session.commit()
        demo.add_responses(args.history, seed=args.seed, now=start)
        sweep_all(now=start)
        points = list(
            db.session.execute(db.select(CollectionPoint).order_by(CollectionPoint.id)).scalars()
        )
        defn = definition_of(points[0].questionnaire_version)
        streets = list(
            db.session.execute(db.select(Region).where(Region.level == "street")).scalars()
        )
        before = int(db.session.execute(db.select(db.func.max(Response.id))).scalar_one() or 0)
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
        )  # fmt: skip
    serializer = URLSafeSerializer(SECRET, salt="survey.form-instance")

    def instance_of(token: str) -> str | None:
        try:
            return str(serializer.loads(token)["i"])
        except Exception:
            return None

    clock = Clock(start)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sim = Sim(server.server_port, clock, defn, instance_of)
    honest_days = args.days
    plan_honest(sim, world, rng, start, honest_days, args.honest)
    used: set[str] = set()

    def pick(channel: str) -> str:
        code = next(c for c in world.of_channel(channel) if c not in used)
        used.add(code)
        return code

    day = dt.timedelta(days=1)
    plan_meeting(sim, world, rng, pick("school"), start + day + dt.timedelta(hours=11))
    plan_push(sim, world, rng, pick("wechat"), start + dt.timedelta(hours=20))
    plan_speed_bots(sim, world, rng, pick("wechat"), start + day + dt.timedelta(hours=26), 150)
    for i in range(3):
        code = pick(("market", "transit", "hospital")[i])
        plan_preloaders(sim, world, rng, code, start + dt.timedelta(hours=10 + 22 * i))
    plan_rotating(sim, world, rng, pick("media"), start + day + dt.timedelta(hours=14), 400)
    plan_coached(sim, world, rng, pick("school"), start, honest_days)
    plan_staff(sim, world, rng, pick("door_to_door"), start + 2 * day + dt.timedelta(hours=9))

    end = start + dt.timedelta(days=honest_days, hours=12)

    def tick() -> None:
        with app.app_context():
            sweep(now=clock.now)

    with (
        mock.patch.object(form_tokens, "utcnow", clock),
        mock.patch.object(responses, "utcnow", clock),
    ):
        sim.run(end, dt.timedelta(minutes=10), tick)
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        sweep_all(now=end + dt.timedelta(hours=1))
        rows = db.session.execute(
            db.select(
                Response.form_instance, Response.flags, Response.awareness,
                Response.participation, Response.satisfaction,
            ).where(Response.id > before)
        ).all()  # fmt: skip
        codes_by_kind: dict[str, Counter[str]] = defaultdict(Counter)
        from survey.services.integrity.catalogue import KINDS

        report(rows, sim, codes_by_kind, KINDS, QualityFlag, started)
    return 0 if OK[0] else 1


OK = [True]


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(
    rows: Any, sim: Sim, codes_by_kind: Any, kinds: Any, flag_cls: Any, started: float
) -> None:
    excluded_bit = int(flag_cls.EXCLUDED)
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        kind = sim.kinds.get(r.form_instance or "", "unknown")
        groups[kind].append(r)
        for k in kinds:
            if r.flags & int(k.flag):
                codes_by_kind[kind][k.code] += 1
    honest = groups.pop("honest", [])
    print(
        f"integrity benchmark: {len(rows)} responses through HTTP "
        f"({len(honest)} honest, {sum(len(g) for g in groups.values())} injected), "
        f"{time.perf_counter() - started:.0f} s"
    )
    if sim.errors:
        print("  refused posts:", dict(sim.errors))
    print(f"{'pattern':<34}{'responses':>10}{'excluded':>11}{'any flag':>11}  flags seen")
    injected_total = injected_excluded = 0
    for kind, members in sorted(groups.items()):
        x = sum(1 for r in members if r.flags & excluded_bit)
        f = sum(1 for r in members if r.flags)
        injected_total += len(members)
        injected_excluded += x
        top = ", ".join(f"{c} {n}" for c, n in codes_by_kind[kind].most_common(4))
        print(
            f"{kind:<34}{len(members):>10}{x / len(members):>10.1%}{f / len(members):>11.1%}  {top}"
        )
    hx = sum(1 for r in honest if r.flags & excluded_bit)
    hf = sum(1 for r in honest if r.flags)
    top = ", ".join(f"{c} {n}" for c, n in codes_by_kind["honest"].most_common(5))
    n = max(len(honest), 1)
    print(f"{'honest residents':<34}{len(honest):>10}{hx / n:>10.1%}{hf / n:>11.1%}  {top}")
    honest_excluded: Counter[str] = Counter()
    for r in honest:
        if r.flags & excluded_bit:
            honest_excluded.update(k.code for k in kinds if r.flags & int(k.flag))
    if honest_excluded:
        print(f"{'  honest excluded, flags seen':<65}  {dict(honest_excluded.most_common(5))}")
    share_injected = injected_excluded / max(injected_total, 1)
    share_honest = hx / max(len(honest), 1)
    print(
        f"injected excluded: {share_injected:.1%} (goal >= 90%: {_met(share_injected >= 0.9)}); "
        f"honest excluded: {share_honest:.1%} (goal <= 2%: {_met(share_honest <= 0.02)})"
    )
    everything = [r for r in rows]
    kept = [r for r in rows if not r.flags & excluded_bit]
    print(f"{'metric':<14}{'honest only (truth, 95% CI)':<32}{'flagged excluded':<20}all responses")
    within = True
    for metric in ("awareness", "participation", "satisfaction"):
        truth = interval([getattr(r, metric) for r in honest if getattr(r, metric) is not None])
        clean = interval([getattr(r, metric) for r in kept if getattr(r, metric) is not None])
        raw = interval([getattr(r, metric) for r in everything if getattr(r, metric) is not None])
        inside = truth[1] <= clean[0] <= truth[2]
        within = within and inside
        print(
            f"{metric:<14}{truth[0]:.3f} [{truth[1]:.3f}, {truth[2]:.3f}] n={truth[3]:<6}"
            f"{clean[0]:.3f} {'within' if inside else 'OUTSIDE':<8}"
            f"  {raw[0]:.3f} {'within' if truth[1] <= raw[0] <= truth[2] else 'outside'}"
        )
    ok = share_injected >= 0.9 and share_honest <= 0.02 and within and not sim.errors
    OK[0] = ok
    print("RESULT: " + ("all goals met" if ok else "goals NOT met"))


if __name__ == "__main__":
    sys.exit(main())
