"""The fault suite's report: one line per scenario and a total, printed after the tests."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/, for helpers.

REPORT: dict[str, dict] = {}


@pytest.fixture(scope="session")
def fault_report():
    return REPORT


def pytest_terminal_summary(terminalreporter):
    if not REPORT:
        return
    from fault_plan import CHECKPOINT_EVERY, SEED

    write = terminalreporter.write_line
    write("")
    write(f"fault injection (seed {SEED}, a checkpoint every {CHECKPOINT_EVERY} steps):")
    kills = resumed = 0
    lost: list[int] = []
    clean = True
    for scenario, r in REPORT.items():
        if scenario.startswith("_"):
            continue
        kills += r["kills"]
        resumed += r["resumed"]
        lost += r["lost"]
        clean = clean and r["exports_clean"]
        write(f"  {scenario:<20} kills {r['kills']:3d}  resumed {r['resumed']}/{r['kills']}  "
              f"lost steps per kill {r['lost'] or '-'}  {r.get('note', '')}".rstrip())
    ok = max(lost, default=0) <= CHECKPOINT_EVERY
    write(f"resumed {resumed}/{kills}, exports {'clean' if clean else 'NOT clean'}, lost steps "
          f"{'<=' if ok else '>'} checkpoint interval (max {max(lost, default=0)})")
