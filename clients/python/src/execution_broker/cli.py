"""``ebpy``: the broker from a shell, with the Python client (``EB_URL``, ``EB_TOKEN`` or --url, --token)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from .client import BrokerClient
from .errors import BrokerError, NoOffersError
from .models import Execution, OfferSet
from .progress import PhaseDisplay


def _read(path: str) -> str:
    return sys.stdin.read() if path == "-" else Path(path).read_text()


def _offer_line(o: Execution) -> str:
    cores = getattr(getattr(o.compute, "cores", None), "min", None)
    memory = getattr(getattr(o.compute, "memory", None), "min", None)
    start = o.schedule.preparing.start if o.schedule and o.schedule.preparing else "?"
    return f"  {o.uuid}  cores {cores}  memory {memory} GiB  starts {start}  expires {o.expires.isoformat() if o.expires else '?'}"


def _print_offers(offer_set: OfferSet) -> int:
    print(f"offer set {offer_set.uuid}: {offer_set.result}")
    if offer_set.result != "YES":
        for m in offer_set.messages:
            print(f"  {m}")
        return 1
    for o in offer_set.offers or []:
        print(_offer_line(o))
    return 0


def _finish(done: Execution) -> int:
    print(f"execution {done.uuid}: {done.phase}")
    for m in done.component_messages():
        if m.level in ("WARN", "ERROR"):
            print(f"  {m}")
    return 0 if done.phase == "COMPLETED" else 1


def _watch(broker: BrokerClient, target: str | Execution, timeout: float) -> int:
    return _finish(broker.wait_until_terminal(target, timeout=timeout, progress=PhaseDisplay(sys.stdout, notebook=False)))


def _commands(broker: BrokerClient, a: argparse.Namespace) -> dict[str, Callable[[], int]]:
    def phase(change: Callable[[str], Execution]) -> Callable[[], int]:
        return lambda: print(f"execution {a.uuid}: {change(a.uuid).phase}") or 0

    def show() -> int:
        e = broker.get(a.uuid)
        print(json.dumps(e.to_json(), indent=2) if a.json else f"execution {e.uuid}: {e.phase}")
        return 0

    def run() -> int:
        offer = broker.offer(_read(a.file))
        print(f"accepting {offer.uuid}")
        return _watch(broker, broker.accept(offer), a.timeout)

    def save() -> int:
        for name, path in broker.save_outputs(a.uuid, a.directory).items():
            print(f"{name}: {path}")
        return 0

    return {
        "offers": lambda: _print_offers(broker.request_offers(_read(a.file))),
        "accept": phase(broker.accept), "reject": phase(broker.reject), "cancel": phase(broker.cancel),
        "get": show,
        "watch": lambda: _watch(broker, a.uuid, a.timeout),
        "run": run,
        "direct": lambda: _watch(broker, broker.direct(_read(a.file)), a.timeout),
        "stdout": lambda: sys.stdout.write(broker.stdout(a.uuid)) and 0,
        "stderr": lambda: sys.stdout.write(broker.stderr(a.uuid)) and 0,
        "save": save,
        "download": lambda: print(broker.download(a.url_to_get, a.path)) or 0,
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ebpy", description="Execution Broker client")
    p.add_argument("--url", help="the broker's base URL (default $EB_URL)")
    p.add_argument("--token", help="bearer token (default $EB_TOKEN)")
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("offers", "request offers; exit 1 with the messages on NO"),
                       ("run", "request, accept the first offer, watch to the end"),
                       ("direct", "POST /direct (request and accept in one call), watch to the end")):
        c = sub.add_parser(name, help=text)
        c.add_argument("file", help="request document, YAML or JSON ('-' for stdin)")
        if name != "offers":
            c.add_argument("--timeout", type=float, default=600.0)
    for name in ("accept", "reject", "cancel", "stdout", "stderr"):
        sub.add_parser(name).add_argument("uuid")
    g = sub.add_parser("get")
    g.add_argument("uuid")
    g.add_argument("--json", action="store_true")
    w = sub.add_parser("watch", help="show each phase until the end; exit 1 unless COMPLETED")
    w.add_argument("uuid")
    w.add_argument("--timeout", type=float, default=600.0)
    s = sub.add_parser("save", help="write execution.json, stdout.txt, stderr.txt into a directory")
    s.add_argument("uuid")
    s.add_argument("directory")
    d = sub.add_parser("download", help="download a connector's URL to a file")
    d.add_argument("url_to_get", metavar="url")
    d.add_argument("path")
    return p


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    try:
        with BrokerClient(a.url, a.token) as broker:
            return _commands(broker, a)[a.command]()
    except NoOffersError as e:
        print(str(e), file=sys.stderr)
        for m in e.messages:
            print(f"  {m}", file=sys.stderr)
        return 1
    except BrokerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
