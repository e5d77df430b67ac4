"""`primenews alerts list|add|remove|run-due` on the test's store, mailing to loopback."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from primenews.cli import main
from primenews.store import Store
from primenews.store.users import User

from .conftest import MakeArticle, Receiver, SmtpServer, free_port
from factories import name_person


def _run(tmp_path: Path, url: str, smtp_port: int, *args: str) -> Result:
    sets = ["smtp_host=127.0.0.1", f"smtp_port={smtp_port}", "fetch_allowlist=127.0.0.1/32",
            "alert_webhook_retries=0"]  # fmt: skip
    base = ["--data-dir", str(tmp_path), "--database", url]
    for assignment in sets:
        base += ["--set", assignment]
    return CliRunner().invoke(main, [*base, *args])


def test_alerts_add_run_list_remove(
    tmp_path: Path, migrated_database_url: str, store: Store, owner: User,
    make_article: MakeArticle, smtp_server: SmtpServer, receiver: Receiver,
) -> None:  # fmt: skip
    def run(*args: str, port: int = smtp_server.port) -> Result:
        return _run(tmp_path, migrated_database_url, port, *args)

    refused = run("alerts", "add", "--user", "alice", "--query", "-only", "--email", "a@b.example")
    assert refused.exit_code == 1 and "no word to look for" in refused.output
    nobody = run("alerts", "add", "--user", "zed", "--query", "storm", "--email", "a@b.example")
    assert nobody.exit_code == 1 and "No user 'zed'" in nobody.output
    entity = name_person(store, make_article(title="Before the alert"), "Ana Ruiz")
    gone = run("alerts", "add", "--user", "alice", "--entity", "999999", "--email", "a@b.example")
    assert gone.exit_code == 1 and "There is no entity 999999" in gone.output
    added = run("alerts", "add", "--user", "alice", "--entity", str(entity), "--email",
                "ana@example.org", "--webhook", receiver.url,
                "--frequency", "immediate")  # fmt: skip
    assert added.exit_code == 0, added.output
    [alert] = store.alerts.list_alerts()
    name_person(store, make_article(title="Storm at sea"), "Ana Ruiz")
    down = run("alerts", "run-due", port=free_port())
    assert down.exit_code == 1 and "1 deliveries sent" in down.output
    listed = run("alerts", "list", "--json")
    row = json.loads(listed.output)
    assert row["owed"] == {"email": 1, "webhook": 0} and "mail:" in row["last_error"]
    ok = run("alerts", "run-due")
    assert ok.exit_code == 0 and "1 deliveries sent (1 articles), 0 failed" in ok.output
    assert len(smtp_server.mailbox.messages) == 1 and len(receiver.calls) == 1
    assert run("alerts", "remove", str(alert.id)).exit_code == 0
    assert run("alerts", "remove", str(alert.id)).exit_code == 1
