"""The embedded default (what `make run` starts) in a directory of its own, for the soak and its test.

No DATABASE_URL / REDIS_URL: SQLite, the SQLite broker, beat and workers under config/supervisor.py,
exactly as `make run` runs them, with FLUXO_VAR_DIR pointing at a temporary directory. Traffic goes
in through the web like a person on the sandbox page (admin login, then POST /sandbox/api/send/);
what happened is read back from the stack's own SQLite database by a short Django script.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
KEYWORD = "SOAK"
REPLY_PREFIX = "soak-eco"

# A keyword trigger (wins over the demo's catch-all flow), a 2-s delay fired by beat's timer scan,
# then a reply that names the message it answers.
SOAK_FLOW = {
    "spec_version": 1,
    "nodes": [
        {"id": "t", "type": "trigger", "config": {"event": "message", "match": "keyword", "keywords": [KEYWORD]}},
        {"id": "d", "type": "delay", "config": {"mode": "duration", "duration": {"value": 2, "unit": "seconds"}}},
        {"id": "r", "type": "send_message", "config": {"text": REPLY_PREFIX + " {{trigger.text}}"}},
    ],
    "edges": [
        {"id": "e1", "source": "t", "source_port": "next", "target": "d"},
        {"id": "e2", "source": "d", "source_port": "next", "target": "r"},
    ],
    "ui": {"nodes": {}, "notes": []},
}

SETUP_SCRIPT = """
import json, django
django.setup()
from flows.models import Flow
from flows.services import flow_create, flow_publish
from messaging.selectors import sandbox_contacts
from messaging.services import sandbox_contact_create
definition = json.loads(DEFINITION)
flow = Flow.objects.filter(name="Soak").first()
if flow is None:
    flow = flow_create(name="Soak", description="bench/embedded_soak.py", definition=definition)
    flow_publish(flow=flow, revision_number=1)
for i in range(CONTACTS):
    sandbox_contact_create(phone=f"+55119{70000000 + i}", name=f"Soak {i}")
ids = [c.pk for c in sandbox_contacts() if c.name.startswith("Soak ")]
print(json.dumps({"contacts": ids}))
"""

REPORT_SCRIPT = """
import json, re, django
django.setup()
from collections import Counter
from messaging.models import Message
from flows.models import FlowRun
pattern = re.compile(KEYWORD + r" [0-9]+-[0-9]+")
ins = Counter(); outs = Counter()
for m in Message.objects.filter(direction="in").only("content"):
    found = pattern.search(json.dumps(m.content, ensure_ascii=False))
    if found:
        ins[found.group(0)] += 1
for m in Message.objects.filter(direction="out").only("content"):
    text = json.dumps(m.content, ensure_ascii=False)
    if PREFIX in text:
        found = pattern.search(text)
        if found:
            outs[found.group(0)] += 1
runs = Counter(FlowRun.objects.filter(flow__name="Soak").values_list("status", flat=True))
print(json.dumps({"inbound": dict(ins), "replies": dict(outs), "runs": dict(runs)}))
"""


class EmbeddedStack:
    """One embedded Fluxo: its var dir, port and supervisor process."""

    def __init__(self, var_dir: Path, *, port: int, workers: int = 2, log_level: str = "INFO"):
        self.var_dir = Path(var_dir)
        self.port = port
        self.workers = workers
        self.log_path = self.var_dir / "console.log"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "CELERY_TASK_ALWAYS_EAGER")}
        self.env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "FLUXO_VAR_DIR": str(self.var_dir),
                         "PORT": str(port), "LOG_LEVEL": log_level, "PYTHONPATH": str(ROOT),
                         "FLUXO_ADMIN_PASSWORD": "soak-admin-password"})
        self.proc: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{port}"

    # --- life ----------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Migrate and load the demo, as `make run` does before it starts the supervisor."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        for args in (["migrate", "--noinput", "-v0"], ["seed_demo", "--no-banner"]):
            subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                           stdout=subprocess.DEVNULL, timeout=300)

    def start(self, *, ready_timeout: float = 180) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the supervisor's life
        self.proc = subprocess.Popen([PYTHON, "-m", "config.supervisor", "--port", str(self.port),
                                      "--workers", str(self.workers)], cwd=ROOT, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + ready_timeout
        while "Fluxo is ready." not in self.console():
            if self.proc.poll() is not None:
                raise RuntimeError(f"supervisor exited ({self.proc.returncode}):\n{self.console()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {ready_timeout:.0f} s:\n{self.console()[-3000:]}")
            time.sleep(0.5)

    def stop(self, timeout: float = 40) -> int | None:
        """SIGTERM to the supervisor (it stops its children); its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    def kill_all(self) -> None:
        """Last resort cleanup: SIGKILL the supervisor and every child group it recorded."""
        for info in self.state().get("processes", {}).values():
            if info.get("pid"):
                try:
                    os.killpg(info["pid"], signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)

    # --- looking ---------------------------------------------------------------------------------
    def console(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def state(self) -> dict:
        try:
            return json.loads((self.var_dir / "supervisor.json").read_text())
        except (OSError, ValueError):
            return {}

    def pid_of(self, name: str) -> int:
        return int(self.state()["processes"][name]["pid"])

    def alive(self) -> dict[str, bool]:
        """Which supervised processes are running now (by their recorded pid)."""
        result = {}
        for name, info in self.state().get("processes", {}).items():
            try:
                os.kill(int(info["pid"]), 0)
                result[name] = True
            except (OSError, TypeError, ValueError):
                result[name] = False
        return result

    def web_answers(self) -> bool:
        try:
            return requests.get(self.base + "/healthz", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def django(self, script: str, **constants) -> dict:
        """Run a Django script in the stack's environment (its SQLite database); its JSON output."""
        prelude = "".join(f"{name} = {value!r}\n" for name, value in constants.items())
        done = subprocess.run([PYTHON, "-c", prelude + script], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        return json.loads(done.stdout.strip().splitlines()[-1])

    # --- traffic ---------------------------------------------------------------------------------
    def setup_soak_flow(self, contacts: int = 5) -> list[int]:
        """Publish the soak flow and add sandbox contacts; the sandbox contact ids."""
        return self.django(SETUP_SCRIPT, DEFINITION=json.dumps(SOAK_FLOW), CONTACTS=contacts)["contacts"]

    def login(self) -> requests.Session:
        """A browser-like session signed in as the admin (Django admin's login form, with CSRF)."""
        session = requests.Session()
        session.get(self.base + "/admin/login/", timeout=10)
        response = session.post(self.base + "/admin/login/?next=/admin/", timeout=30, data={
            "username": "admin", "password": self.env["FLUXO_ADMIN_PASSWORD"],
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), "next": "/admin/"},
            headers={"Referer": self.base + "/admin/login/"})
        if "sessionid" not in session.cookies:
            raise RuntimeError(f"admin login failed ({response.status_code})")
        return session

    def send(self, session: requests.Session, contact_id: int, text: str) -> int:
        """Play the customer: the sandbox page's send; the HTTP status."""
        response = session.post(self.base + "/sandbox/api/send/", json={"contact": contact_id, "text": text},
                                headers={"X-CSRFToken": session.cookies.get("csrftoken", ""),
                                         "Referer": self.base + "/sandbox/"}, timeout=30)
        return response.status_code

    def report(self) -> dict:
        """Inbound soak messages and replies (by the message they answer), runs of the soak flow."""
        return self.django(REPORT_SCRIPT, KEYWORD=KEYWORD, PREFIX=REPLY_PREFIX)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
