"""`primenews users` and `primenews tokens` on a real store file."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from primenews.auth import hash_token
from primenews.cli import main
from primenews.store import Store


@pytest.fixture
def run(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> click.testing.Result:
        base = ["--data-dir", str(tmp_path), "--database", database_url]
        return runner.invoke(main, [*base, *args], input=input)

    return invoke


def test_users_add_prompts_twice_and_lists(run) -> None:  # type: ignore[no-untyped-def]
    mismatch = run("users", "add", "alice", input="first password\nother password\n" * 3)
    assert mismatch.exit_code == 1  # click gives up after the prompts do not match
    added = run("users", "add", "alice", input="long enough pw\nlong enough pw\n")
    assert added.exit_code == 0, added.output
    assert "long enough pw" not in added.output, "the password is never echoed"
    listed = run("users", "list")
    assert listed.output.startswith("alice\tcreated=") and "last_login=never" in listed.output


def test_users_add_refuses_bad_names_and_passwords(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    password = tmp_path / "pw"
    password.write_text("long enough pw\n")
    short = tmp_path / "short"
    short.write_text("short\n")
    cases = [
        (["users", "add", "alice", "--password-file", str(short)], "at least 10 characters"),
        (["users", "add", "a b", "--password-file", str(password)], "not a user name"),
        (["users", "add", "<script>", "--password-file", str(password)], "not a user name"),
        (["users", "add", "-x", "--password-file", str(password)], "No such option"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    assert run("users", "add", "alice", "--password-file", str(password)).exit_code == 0
    again = run("users", "add", "alice", "--password-file", str(password))
    assert again.exit_code == 1 and "already a user called 'alice'" in again.output
    same = tmp_path / "same"
    same.write_text("bobbobbobbob\n")
    assert (
        "must not be the user name"
        in run("users", "add", "bobbobbobbob", "--password-file", str(same)).output
    )


def test_tokens_add_list_revoke_and_user_removal(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    assert "No user 'ghost'" in run("tokens", "add", "--user", "ghost").output
    run("users", "add", "alice", "--password-file", "-", input="long enough pw\n")
    made = run("tokens", "add", "--user", "alice", "--name", "importer")
    assert made.exit_code == 0
    token = made.stdout.strip()
    assert token.startswith("pn_") and len(token) > 40
    listed = run("tokens", "list").output
    assert "1\talice\timporter\t" + token[:9] + "…" in listed and token not in listed
    store = Store.open(database_url)
    assert store.users.api_token_user(hash_token(token), store.users.list_users()[0].created_at)
    assert run("tokens", "revoke", "1").output == "Revoked token 1.\n"
    assert run("tokens", "revoke", "1").exit_code == 1
    assert (
        store.users.api_token_user(hash_token(token), store.users.list_users()[0].created_at)
        is None
    )
    second = run("tokens", "add", "--user", "alice").stdout.strip()
    assert run("users", "remove", "alice").exit_code == 0
    assert store.users.list_api_tokens() == [] and store.users.list_users() == []
    assert "No user 'alice'" in run("users", "remove", "alice").output
    assert second and run("tokens", "list").output == ""
    store.close()
