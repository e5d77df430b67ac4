"""The ``primenews`` command: each command parses its arguments and makes one call.

Settings are built once here (defaults < primenews.toml < PRIMENEWS_* env <
flags) and passed down; logging is configured here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import sys
import time
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from primenews import __version__, catalog, service
from primenews.config import SETTINGS, Settings, dump_settings, load_settings, settings_markdown
from primenews.domain import Article, SourceKind
from primenews.errors import ConfigError, ParseError, PrimeNewsError, QueueError, StoreError
from primenews.ingest.fetch import Fetcher, FetchOptions
from primenews.insights.model import Insights
from primenews.store import Store, make_engine
from primenews.store.desklock import desk_lock
from primenews.store.engine import safe_url
from primenews.store.migrate import CopyOptions, copy_store, open_source
from primenews.worker.boilerplate import BoilerplateFilter
from primenews.worker.desk import StoryDesk
from primenews.worker.poller import SourceReport

T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def _open_store(settings: Settings) -> Store:
    try:
        return service.open_store(settings)
    except PrimeNewsError as err:
        raise click.ClickException(
            f"{err}\nCheck PRIMENEWS_DATABASE / --database and that the data folder is writable."
        ) from err


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="primenews")
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="TOML settings file."
)
@click.option("--database", help="SQLAlchemy URL or SQLite file path (PRIMENEWS_DATABASE).")
@click.option("--data-dir", help="Folder for the database and state (PRIMENEWS_DATA_DIR).")
@click.option(
    "--allow-private-networks/--no-allow-private-networks",
    default=None,
    help="Allow fetching private and loopback addresses (PRIMENEWS_ALLOW_PRIVATE_NETWORKS).",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="Any setting, e.g. --set fetch_per_host_delay_ms=0 (see `primenews config`).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def main(
    ctx: click.Context,
    config_file: str | None,
    database: str | None,
    data_dir: str | None,
    allow_private_networks: bool | None,
    assignments: tuple[str, ...],
    verbose: int,
) -> None:
    """Prime News: a self-hosted news platform.

    Start with `primenews up`: it creates the database, adds default sources
    when there are none, polls them and serves the site.
    """
    overrides: dict[str, Any] = {
        "database": database,
        "data_dir": data_dir,
        "allow_private_networks": allow_private_networks,
    }
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep:
            raise click.BadParameter(f"{assignment!r} is not NAME=VALUE", param_hint="--set")
        overrides[name.strip()] = value
    try:
        settings = load_settings(config_file=config_file, overrides=overrides)
    except ConfigError as err:
        raise click.ClickException(str(err)) from err
    level = settings.log_level if not verbose else ("DEBUG" if verbose > 1 else "INFO")
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request at INFO; our fetcher logs what matters.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose < 2 else logging.DEBUG)
    ctx.obj = settings


@main.command()
@click.option("--host", help="Address to listen on (PRIMENEWS_HOST).")
@click.option("--port", type=int, help="Port to listen on (PRIMENEWS_PORT).")
@click.option(
    "--no-poll",
    is_flag=True,
    help="Serve only: one of any number of web processes beside `primenews poll` on one store.",
)
@click.pass_context
def up(ctx: click.Context, host: str | None, port: int | None, no_poll: bool) -> None:
    """Run everything: migrations, the poller on its schedule and the web site."""
    settings = _settings(ctx).replace(
        **{k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    )
    store = _open_store(settings)
    added = catalog.seed_default_sources(store)
    if added:
        click.echo(f"No sources yet: added {added} default news feeds (primenews sources list).")
    if not store.users.list_users():
        click.echo("No admin account yet: `primenews users add NAME`, then log in at /login.")
    store.close()
    click.echo(f"Prime News on http://{settings.host}:{settings.port}/  (Ctrl-C stops)")
    _run_desk(service.run_up(settings, poll=not no_poll))


@main.command()
@click.option("--once", is_flag=True, help="Poll every due source once, then exit.")
@click.pass_context
def poll(ctx: click.Context, once: bool) -> None:
    """Fetch due sources, extract and store new articles."""
    settings = _settings(ctx)
    store = _open_store(settings)
    if not store.list_sources():
        raise click.ClickException("No sources yet: run `primenews sources add URL` first.")
    if not once:
        click.echo("Polling on schedule (Ctrl-C stops); `primenews up` also serves the site.")
        _run_desk(service.run_up(settings, poll=True, serve=False))
        return
    due = len(store.due_sources(datetime.now().astimezone()))
    started = time.perf_counter()
    bar: Any
    with click.progressbar(
        length=due,
        label="Polling",
        file=sys.stderr,
        show_pos=True,
        item_show_func=lambda report: report.source.url[-40:] if report else None,
    ) as bar:
        try:
            reports = asyncio.run(service.poll_once(settings, store, on_done=_advance(bar)))
        except (QueueError, StoreError) as err:
            raise click.ClickException(str(err)) from err
    _echo_poll_summary(reports, time.perf_counter() - started)


@main.command()
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo"]),
    default="prefork",
    show_default=True,
    help="prefork: worker_concurrency processes; solo: one task at a time in this process.",
)
@click.pass_context
def worker(ctx: click.Context, pool: str) -> None:
    """Run queue tasks (fetch, extract, enrich) for `poll` and `up`; needs queue_url."""
    settings = _settings(ctx)
    if not settings.queue_url:
        raise click.ClickException(
            "No queue: set PRIMENEWS_QUEUE_URL=redis://127.0.0.1:6379/0 (or --set queue_url=...)."
        )
    _open_store(settings).close()  # migrated before the first task arrives
    from primenews.worker.queue import run_worker  # celery loads only for this command

    sys.exit(run_worker(settings, service.poll_options(settings), pool=pool))


@main.command()
@click.pass_context
def refresh(ctx: click.Context) -> None:
    """Fetch every article of an active story again now; changed texts become revisions."""
    settings = _settings(ctx)
    store = _open_store(settings)
    started = time.perf_counter()
    click.echo("Re-fetching the articles of active stories (conditional GET)…", err=True)
    report = _run_desk(service.refresh_once(settings, store))
    click.echo(
        f"Checked {report.checked} articles in {time.perf_counter() - started:.1f} s: "
        f"{report.revised} revised, {report.not_modified} not modified (304), "
        f"{report.unchanged} unchanged, {report.failed} failed."
    )


def _run_desk(work: Coroutine[Any, Any, T]) -> T:
    """Run a command that keeps the story desk; a desk running elsewhere is a clear error."""
    try:
        return asyncio.run(work)
    except StoreError as err:
        raise click.ClickException(str(err)) from err


def _advance(bar: Any) -> Any:
    def on_done(report: SourceReport) -> None:
        bar.update(1, report)

    return on_done


def _echo_poll_summary(reports: list[SourceReport], seconds: float) -> None:
    new = sum(report.new for report in reports)
    revised = sum(report.revised for report in reports)
    failed = [report for report in reports if report.error]
    pages = sum(report.failed_pages for report in reports)
    click.echo(
        f"Polled {len(reports)} sources in {seconds:.1f} s: {new} new articles "
        f"({new / seconds if seconds else 0:.1f}/s), {revised} revised, "
        f"{len(failed)} sources failing, {pages} pages failed."
    )
    for report in failed[:20]:
        click.echo(f"  ! {report.source.url}: {report.error}", err=True)
    if len(failed) > 20:
        click.echo(f"  … and {len(failed) - 20} more (primenews sources list)", err=True)


@main.group()
def sources() -> None:
    """Add, list, import and export sources."""


@sources.command("add")
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in SourceKind]),
    help="Skip discovery and add the URL as this kind.",
)
@click.pass_context
def sources_add(ctx: click.Context, urls: tuple[str, ...], kind: str | None) -> None:
    """Add feeds, sitemaps, home pages (their feeds are discovered) or single articles."""
    settings = _settings(ctx)
    store = _open_store(settings)

    async def add_all() -> list[catalog.Added]:
        fetcher = Fetcher(FetchOptions.from_settings(settings))  # no desk: `up` may be running
        try:
            chosen = SourceKind(kind) if kind else None
            return [await catalog.add_source(store, fetcher, u, chosen) for u in urls]
        finally:
            await fetcher.aclose()

    try:
        results = asyncio.run(add_all())
    except ParseError as err:
        raise click.ClickException(str(err)) from err
    for added in results:
        for source, created in zip(added.sources, added.created, strict=True):
            state = "added" if created else "already there"
            click.echo(f"{source.id}\t{source.kind}\t{source.url}\t{state}")
        if added.warning:
            click.echo(f"warning: {added.url}: {added.warning}", err=True)


@sources.command("import")
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def sources_import(ctx: click.Context, opml_file: str) -> None:
    """Add every feed of an OPML file."""
    store = _open_store(_settings(ctx))
    try:
        added = catalog.import_opml(store, Path(opml_file).read_bytes())
    except ParseError as err:
        raise click.ClickException(f"{err}\nIs {opml_file} an OPML file?") from err
    new = sum(1 for _, created in added if created)
    click.echo(f"Imported {len(added)} feeds from {opml_file} ({new} new).")


@sources.command("export")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="File to write (default stdout)."
)
@click.pass_context
def sources_export(ctx: click.Context, output: str | None) -> None:
    """Write every feed as OPML."""
    text = catalog.export_opml(_open_store(_settings(ctx)))
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text)


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source.")
@click.pass_context
def sources_list(ctx: click.Context, as_json: bool) -> None:
    """Show each source: last fetch, status or error, error streak, interval, next poll, push."""
    from primenews.worker.websub import push_status

    settings = _settings(ctx)
    store = _open_store(settings)
    counts = store.article_counts_by_source()
    dead = store.dead_letter_counts()
    subscriptions = {sub.source_id: sub for sub in store.list_subscriptions()}
    now = datetime.now(UTC)
    for source in store.list_sources():
        row = _jsonable(dataclasses.asdict(source))
        row["articles"] = counts.get(source.id or 0, 0)
        row["push"] = push_status(subscriptions.get(source.id or 0), settings.public_url, now)
        row["dead_letters"] = dead.get(source.id or 0, 0)
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        status = source.last_error or (str(source.last_status) if source.last_status else "never")
        interval = f"{source.poll_interval_minutes:.0f}m" if source.poll_interval_minutes else "-"
        click.echo(
            f"{source.id}\t{source.kind}\t{source.url}\tlast={row['last_fetched'] or '-'}\t"
            f"status={status}\terrors={source.error_count}\tevery={interval}\t"
            f"next={row['next_due'] or '-'}\tarticles={row['articles']}\tpush={row['push']}"
            + (f"\tdead_letters={row['dead_letters']}" if row["dead_letters"] else "")
        )
    _echo_dead_letters(store, as_json)


def _echo_dead_letters(store: Store, as_json: bool) -> None:
    """The newest queue tasks that gave up (docs/architecture.md, "Queue"), after the sources."""
    letters = store.list_dead_letters(limit=20)
    if as_json or not letters:
        return
    click.echo("Dead letters (queue tasks that gave up), newest first:", err=True)
    for letter in letters:
        click.echo(
            f"  ! source {letter.source_id or '-'}\t{letter.failed_at:%Y-%m-%d %H:%M}\t"
            f"{letter.task}\tattempts={letter.attempts}\t{letter.error}",
            err=True,
        )


@sources.command("remove")
@click.argument("source_id", type=int)
@click.pass_context
def sources_remove(ctx: click.Context, source_id: int) -> None:
    """Stop polling a source (its articles stay)."""
    if not _open_store(_settings(ctx)).remove_source(source_id):
        raise click.ClickException(f"No source {source_id}: see `primenews sources list`.")
    click.echo(f"Removed source {source_id}.")


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per input.")
@click.option("--url", "page_url", help="The page's URL, when a single file is given.")
@click.pass_context
def extract(
    ctx: click.Context, inputs: tuple[str, ...], as_json: bool, page_url: str | None
) -> None:
    """Extract the article of saved HTML files or URLs."""
    if page_url and len(inputs) > 1:
        raise click.UsageError("--url goes with a single input.")
    from primenews.pipeline import article_from_page

    settings = _settings(ctx)
    failures = 0
    for item in inputs:
        try:
            content, url = _read_page(item, page_url, settings)
            article = article_from_page(content, url)
        except (PrimeNewsError, OSError) as err:
            failures += 1
            click.echo(f"{item}: {err}", err=True)
            continue
        click.echo(
            json.dumps(article_json(article), ensure_ascii=False)
            if as_json
            else f"{article.title}\n\n{article.text}\n"
        )
    if failures:
        sys.exit(1)


def _read_page(item: str, page_url: str | None, settings: Settings) -> tuple[bytes, str]:
    """The bytes and URL of a page: fetched through the safe fetcher, or read from a file."""
    from primenews.ingest.archives import page_url as declared_url
    from primenews.ingest.fetch import FetchOptions, fetch_once

    if item.startswith(("http://", "https://")):
        page = fetch_once(item, FetchOptions.from_settings(settings))
        return page.content, page_url or page.final_url
    # A saved page names its own address; without one it is known by its path.
    content = Path(item).read_bytes()
    return content, page_url or declared_url(content) or Path(item).resolve().as_uri()


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per input.")
@click.option("--url", "page_url", help="The page's URL, when a single file is given.")
@click.option(
    "--use-store",
    is_flag=True,
    help="Resolve names against the entities of the configured database (read only).",
)
@click.pass_context
def enrich(
    ctx: click.Context,
    inputs: tuple[str, ...],
    as_json: bool,
    page_url: str | None,
    use_store: bool,
) -> None:
    """Extract the article of saved HTML files or URLs, with its insights.

    Insights: entities, key figures, quotes and speakers, dates, summary.
    """
    if page_url and len(inputs) > 1:
        raise click.UsageError("--url goes with a single input.")
    from primenews.insights.records import insights_record
    from primenews.pipeline import article_from_page, insights_of

    settings = _settings(ctx)
    store = _open_store(settings) if use_store else None
    failures = 0
    try:
        for item in inputs:
            try:
                content, url = _read_page(item, page_url, settings)
                article = article_from_page(content, url)
            except (PrimeNewsError, OSError) as err:
                failures += 1
                click.echo(f"{item}: {err}", err=True)
                continue
            insights = insights_of(article, store.registry() if store else None)
            if as_json:
                row = {**article_json(article), "insights": insights_record(insights)}
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                click.echo(_insights_text(article, insights))
    finally:
        if store is not None:
            store.close()
    if failures:
        sys.exit(1)


def _insights_text(article: Article, insights: Insights) -> str:
    lines = [article.title or article.url, "", *insights.summary, ""]
    lines += [f"{e.kind.value}: {e.name} ({e.count})" for e in insights.entities]
    lines += [f"figure: {f.text} {f.counts or f.noun} {f.unit}".rstrip() for f in insights.figures]
    lines += [f"quote: {q.speaker or '?'}: “{q.text}”" for q in insights.quotes]
    lines += [f"date: {d.resolved} ({d.text}) {d.what}".rstrip() for d in insights.timeline]
    return "\n".join(lines) + "\n"


def article_json(article: Article) -> dict[str, Any]:
    row = _jsonable(dataclasses.asdict(article))
    row["word_count"] = article.word_count
    return row


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat()
        if isinstance(value, datetime)
        else list(value)
        if isinstance(value, tuple)
        else value
        for key, value in row.items()
    }


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Load WARC files and folders of saved HTML pages."""
    from primenews.ingest.archives import count_archive, iter_archive

    settings = _settings(ctx)
    store = _open_store(settings)
    total = sum(count_archive(Path(path)) for path in paths)

    def pages() -> Iterator[Any]:
        for path in paths:
            yield from iter_archive(Path(path))

    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(desk_lock(store.engine))  # stories have one writer
        except StoreError as err:
            raise click.ClickException(str(err)) from err
        extractor = service.extract_pool(settings)
        stack.callback(extractor.close)
        bar = stack.enter_context(
            click.progressbar(length=total, label="Ingesting", file=sys.stderr, show_pos=True)
        )
        report = asyncio.run(
            service.ingest_pages(
                store,
                pages(),
                extractor,
                on_page=lambda _page: bar.update(1),
                desk=StoryDesk(store),
                boilerplate=BoilerplateFilter(store),
            )
        )
    seconds = time.perf_counter() - started
    click.echo(
        f"Ingested {report.pages} pages in {seconds:.1f} s: {report.new} new, "
        f"{report.revised} revised, {report.unchanged} unchanged, "
        f"{report.failed} without an article."
    )
    for error in report.errors[:10]:
        click.echo(f"  ! {error}", err=True)


@main.command()
def classify() -> None:
    """Sections of JSON lines on stdin ({"title", "text"}, optional "url", "categories", "section").

    Writes one JSON line per input: {"sections": [...], "scores": {label: probability}}.
    """
    from primenews.insights.sections import SectionHints, classify_sections

    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not a JSON object")
            categories = item.get("categories") or ()
            if isinstance(categories, str):  # one category given as a string, not letters
                categories = (categories,)
            hints = SectionHints(
                url=_text_field(item, "url"),
                categories=tuple(str(c) for c in categories),
                section=_text_field(item, "section"),
            )
            title, text = _text_field(item, "title"), _text_field(item, "text")
            result = classify_sections(title, text, hints)
        except (ValueError, TypeError) as err:
            click.echo(f'line {number}: {err}; expected {{"title": …, "text": …}}', err=True)
            click.echo(json.dumps({"error": str(err)}))
            continue
        click.echo(json.dumps({"sections": list(result.labels), "scores": result.scores}))


def _text_field(item: dict[str, Any], name: str) -> str:
    """A JSON field as text: missing or null is empty (never the word "None")."""
    value = item.get(name)
    return "" if value is None else str(value)


@main.command("train-sections")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, exists=True),
    default="../shared/data",
    show_default=True,
    help="Folder holding ag_news/ and bbc_news/ (train parts only are used).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where the model goes (default: the package's own model folder).",
)
def train_sections_command(data_dir: str, out_dir: str | None) -> None:
    """Train the section classifier on the train parts of ag_news and bbc_news.

    Needs the training extras: pip install -e '.[train]'.
    """
    try:
        from primenews.insights import sections_train
    except ImportError as err:
        raise click.ClickException(
            f"{err}: install the training extras with pip install -e '.[train]'"
        ) from err
    options = sections_train.TrainOptions(data_dir=Path(data_dir))
    if out_dir:
        options = dataclasses.replace(options, out_dir=Path(out_dir))
    click.echo(f"Training sections from {data_dir} (a few minutes)…", err=True)
    report = sections_train.train_sections(options)
    for label in report.thresholds:
        click.echo(
            f"{label:<11} threshold {report.thresholds[label]:.3f}  "
            f"out-of-fold F1 {report.f1[label]:.4f}"
        )
    click.echo(f"{report.documents} documents; wrote {', '.join(map(str, report.files))}")


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the database schema."""
    settings = _settings(ctx)
    store = Store.open(settings.database_url)
    applied = store.migrate()
    click.echo(
        f"Applied {len(applied)} migrations: {', '.join(applied)}"
        if applied
        else "The database is up to date."
    )


@main.command("migrate-store")
@click.option(
    "--from",
    "from_url",
    help="The installation to copy: a URL or SQLite file path (default: the configured database).",
)
@click.option("--to", "to_url", required=True, help="The database to fill, e.g. postgresql://…")
@click.option("--force", is_flag=True, help="Empty the target first if it already holds rows.")
@click.option("--batch-rows", type=click.IntRange(1), default=2000, show_default=True)
@click.pass_context
def migrate_store(
    ctx: click.Context, from_url: str | None, to_url: str, force: bool, batch_rows: int
) -> None:
    """Copy every table of one database into another (e.g. SQLite to PostgreSQL).

    Stop the service first; the copy checks every table's row count at the end.
    """
    source_url = _as_database_url(from_url) if from_url else _settings(ctx).database_url
    target_url = _as_database_url(to_url)
    if source_url == target_url:
        raise click.ClickException("--from and --to name the same database: choose another target")
    bars: dict[str, Any] = {}

    def progress(table: str, copied: int, total: int) -> None:
        if table not in bars:
            bars[table] = click.progressbar(length=total, label=f"{table:<20}", file=sys.stderr)
            bars[table].__enter__()
        bar = bars[table]
        bar.update(copied - bar.pos)
        if copied >= total:
            bar.__exit__(None, None, None)

    try:
        source, target = open_source(source_url), make_engine(target_url)
        try:
            copied = copy_store(source, target, CopyOptions(batch_rows, force), progress)
        finally:
            source.dispose()
            target.dispose()
    except PrimeNewsError as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"Copied {sum(table.rows for table in copied)} rows in {len(copied)} tables "
        f"to {safe_url(target_url)}; row counts match."
    )


def _as_database_url(value: str) -> str:
    """A URL as given, or a file path as a SQLite URL (like the ``database`` setting)."""
    return value if "://" in value else "sqlite:///" + str(Path(value))


@main.command("config")
@click.option("--show", is_flag=True, help="Print the settings in force (secrets masked).")
@click.option(
    "--markdown", is_flag=True, help="Print the settings reference (docs/configuration.md)."
)
@click.pass_context
def config_command(ctx: click.Context, show: bool, markdown: bool) -> None:
    """List the settings, or with --show their values in force."""
    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    if show:
        click.echo(json.dumps(dump_settings(_settings(ctx)), indent=2))
        return
    for setting in SETTINGS:
        click.echo(
            f"{setting.name} (PRIMENEWS_{setting.name.upper()}, default {setting.default!r})"
        )
        click.echo(f"    {setting.help}")


@main.group()
def users() -> None:
    """Admin accounts: who may manage sources and API tokens on the site."""


@users.command("add")
@click.argument("name")
@click.option(
    "--password-file",
    type=click.File("r"),
    help="Read the password from this file's first line (- for stdin) instead of prompting.",
)
@click.pass_context
def users_add(ctx: click.Context, name: str, password_file: Any) -> None:
    """Create an admin account (asks for the password twice)."""
    from primenews.auth import PasswordHasher
    from primenews.auth.accounts import AccountError, create_user

    if password_file is not None:
        password = password_file.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            f"Password for {name}", hide_input=True, confirmation_prompt=True, err=True
        )
    store = _open_store(_settings(ctx))
    try:
        user = create_user(store, PasswordHasher(), name, password, datetime.now(UTC))
    except PrimeNewsError as err:
        hint = "" if isinstance(err, AccountError) else "\nSee `primenews users list`."
        raise click.ClickException(f"{err}{hint}") from err
    click.echo(f"Added {user.name}: log in at /login to manage sources.")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """Show every account with when it was made and last logged in."""
    for user in _open_store(_settings(ctx)).users.list_users():
        last = user.last_login.isoformat() if user.last_login else "never"
        click.echo(f"{user.name}\tcreated={user.created_at.isoformat()}\tlast_login={last}")


@users.command("remove")
@click.argument("name")
@click.pass_context
def users_remove(ctx: click.Context, name: str) -> None:
    """Delete an account; its sessions and API tokens stop working at once."""
    if not _open_store(_settings(ctx)).users.remove_user(name):
        raise click.ClickException(f"No user {name!r}: see `primenews users list`.")
    click.echo(f"Removed {name}, with its sessions and API tokens.")


@main.group()
def tokens() -> None:
    """API tokens for the JSON API's write endpoints (Authorization: Bearer …)."""


@tokens.command("add")
@click.option("--user", "user_name", required=True, help="The account the token acts for.")
@click.option("--name", "label", default="", help="What the token is for (shown in lists).")
@click.pass_context
def tokens_add(ctx: click.Context, user_name: str, label: str) -> None:
    """Create a token and print it; it is shown this once (only its hash is kept)."""
    from primenews.auth.accounts import create_api_token

    store = _open_store(_settings(ctx))
    found = store.users.credentials(user_name)
    if found is None:
        raise click.ClickException(
            f"No user {user_name!r}: create one with `primenews users add {user_name}`."
        )
    stored, token = create_api_token(store, found.user, label, datetime.now(UTC))
    click.echo(f"Token {stored.id} ({stored.name}) for {found.user.name}:", err=True)
    click.echo(token)


@tokens.command("list")
@click.pass_context
def tokens_list(ctx: click.Context) -> None:
    """Show every token: id, owner, name, first characters, last use."""
    for token in _open_store(_settings(ctx)).users.list_api_tokens():
        used = token.last_used.isoformat() if token.last_used else "never"
        click.echo(f"{token.id}\t{token.user_name}\t{token.name}\t{token.hint}…\tlast_used={used}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def tokens_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke a token: requests carrying it get 401 from now on."""
    if not _open_store(_settings(ctx)).users.revoke_api_token(token_id):
        raise click.ClickException(f"No token {token_id}: see `primenews tokens list`.")
    click.echo(f"Revoked token {token_id}.")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_context
def backup(ctx: click.Context, path: str) -> None:
    """Copy the SQLite store to PATH, consistently, even while it is being written."""
    from primenews.backup import backup_store

    settings = _settings(ctx)
    _open_store(settings).close()  # migrated, so the copy has today's schema
    try:
        facts = backup_store(settings.database_url, Path(path))
    except PrimeNewsError as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"Backed up {facts.articles} articles and {facts.sources} sources to {path} "
        f"({facts.bytes / 1e6:.1f} MB)."
    )


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a store that is in use or already holds data.")
@click.pass_context
def restore(ctx: click.Context, path: str, force: bool) -> None:
    """Replace the store with the backup at PATH and migrate it to this version."""
    from primenews.backup import check_store_file, restore_store

    settings = _settings(ctx)
    try:
        facts = check_store_file(Path(path))
        applied = restore_store(Path(path), settings.database_url, force=force)
    except PrimeNewsError as err:
        raise click.ClickException(str(err)) from err
    migrated = f"; applied {', '.join(applied)}" if applied else ""
    click.echo(
        f"Restored {facts.articles} articles and {facts.sources} sources from {path}{migrated}."
    )


@main.group()
def alerts() -> None:
    """Saved searches and entity watchlists, delivered by e-mail digest and webhook."""


@alerts.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per alert.")
@click.pass_context
def alerts_list(ctx: click.Context, as_json: bool) -> None:
    """Show every alert: owner, what it matches, where it goes, what it still owes."""
    from primenews.alerts.model import Channel

    store = _open_store(_settings(ctx))
    owners = {user.id: user.name for user in store.users.list_users()}
    for alert in store.alerts.list_alerts():
        owed = {ch.value: store.alerts.count_owed(alert.id, ch) for ch in Channel}
        row = {
            "id": alert.id,
            "owner": owners.get(alert.user_id, "?"),
            "name": alert.name,
            "query": alert.rule.query,
            "entities": list(alert.rule.entity_ids),
            "frequency": alert.frequency.value,
            "email": alert.email,
            "email_enabled": alert.email_enabled,
            "webhook_url": alert.webhook_url,
            "owed": owed,
            "last_error": alert.last_error,
        }
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            to = ", ".join(filter(None, (alert.email, alert.webhook_url)))
            click.echo(
                f"{alert.id}\t{row['owner']}\t{alert.name}\t{alert.frequency}\t{to}"
                f"\towed={owed}" + (f"\terror={alert.last_error}" if alert.last_error else "")
            )


@alerts.command("add")
@click.option("--user", "user_name", required=True, help="The account that owns the alert.")
@click.option("--query", default="", help="Words to search for, in /search syntax.")
@click.option(
    "--entity", "entity_ids", multiple=True, type=int, help="An entity id to watch (repeatable)."
)
@click.option("--section", default="", help="Only articles of this section.")
@click.option("--source", default="", help="Only articles of this source id.")
@click.option("--since", default="", help="Only articles dated on or after YYYY-MM-DD.")
@click.option("--frequency", default="daily", type=click.Choice(["immediate", "hourly", "daily"]))
@click.option("--email", default="", help="Send digests to this address.")
@click.option("--webhook", "webhook_url", default="", help="POST signed JSON to this URL.")
@click.option("--name", default="", help="A name for the alert (default: the query).")
@click.pass_context
def alerts_add(
    ctx: click.Context,
    user_name: str,
    query: str,
    entity_ids: tuple[int, ...],
    section: str,
    source: str,
    since: str,
    frequency: str,
    email: str,
    webhook_url: str,
    name: str,
) -> None:
    """Create an alert for USER; it matches articles stored from now on."""
    from primenews.alerts.validate import AlertInputError, checked_alert, rule_from_strings
    from primenews.ingest.fetch import FetchOptions
    from primenews.web.deps import SECTIONS

    settings = _settings(ctx)
    store = _open_store(settings)
    owner = next((u for u in store.users.list_users() if u.name == user_name), None)
    if owner is None:
        raise click.ClickException(f"No user {user_name!r}: see `primenews users list`.")
    rule, unread = rule_from_strings(
        query=query,
        section=section,
        source=source,
        entities=" ".join(map(str, entity_ids)),
        since=since,
    )
    try:
        fields = checked_alert(
            name=name,
            rule=rule,
            frequency=frequency,
            email=email,
            webhook_url=webhook_url,
            sections=SECTIONS,
            known_entities=store.alerts.existing_entities(rule.entity_ids),
            policy=FetchOptions.from_settings(settings).policy,
            read_problems=unread,
        )
    except AlertInputError as err:
        raise click.ClickException("\n".join(err.problems)) from err
    alert = store.alerts.create(owner.id, fields, datetime.now(UTC))
    click.echo(f"Added alert {alert.id} ({alert.name}, {alert.frequency}).")


@alerts.command("remove")
@click.argument("alert_id", type=int)
@click.pass_context
def alerts_remove(ctx: click.Context, alert_id: int) -> None:
    """Delete an alert with its matches and delivery log."""
    if not _open_store(_settings(ctx)).alerts.remove(alert_id):
        raise click.ClickException(f"No alert {alert_id}: see `primenews alerts list`.")
    click.echo(f"Removed alert {alert_id}.")


@alerts.command("run-due")
@click.pass_context
def alerts_run_due(ctx: click.Context) -> None:
    """Match new articles against every alert and deliver what the due ones owe, once."""
    settings = _settings(ctx)
    store = _open_store(settings)
    report = asyncio.run(service.run_alerts(settings, store))
    click.echo(
        f"{report.matched} new matches; {report.sent} deliveries sent "
        f"({report.articles} articles), {report.failed} failed."
    )
    for error in report.errors:
        click.echo(f"  {error}", err=True)
    if report.failed:
        sys.exit(1)
