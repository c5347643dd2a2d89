"""`server` and `users add`: the team tracking server and its accounts."""

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.common import fail, stdout
from pipeline.core.errors import PipelineError

users_app = typer.Typer(help="Accounts of the team tracking server (`make server`).")


def server(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: the network).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    workers: Annotated[int | None, typer.Option(help="Server worker processes.")] = None,
    gunicorn_opts: Annotated[
        str | None,
        typer.Option(help='TLS and more through gunicorn: "--certfile C --keyfile K".'),
    ] = None,
) -> None:
    """The team tracking server: MLflow's basic-auth app over `$PG_URI` (else `mlflow.db`).

    Artifacts are proxied into `mlartifacts/`; accounts and grants sit beside the store
    (`mlflow-auth.db`, or the same PostgreSQL database). The admin password comes from
    MLFLOW_AUTH_ADMIN_PASSWORD or `~/.config/pipeline/mlflow-admin-password` (generated
    there on loopback; required on any other address).
    """
    from pipeline.core import team_server, tracking

    root = tracking.project_root()
    store = os.environ.get("PG_URI") or f"sqlite:///{root / 'mlflow.db'}"
    try:
        run = team_server.server(
            store,
            root / "mlartifacts",
            host,
            port,
            root / "mlflow-auth.ini",
            workers,
            gunicorn_opts,
        )
    except PipelineError as err:
        raise fail(err) from None
    shown = "PostgreSQL (PG_URI)" if os.environ.get("PG_URI") else store
    stdout.print(escape(f"MLflow basic-auth server on {run.url}, store {shown}"))
    os.execve(run.command[0], run.command, os.environ | run.env)


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        try:
            return password_file.read_text().strip()
        except OSError as err:
            raise PipelineError(f"cannot read {password_file}: {err.strerror or err}") from None
    return str(
        typer.prompt("Password for the new account", hide_input=True, confirmation_prompt=True)
    )


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Account name.", show_default=False)],
    role: Annotated[str, typer.Option(help="scientist or maintainer.")] = "scientist",
    password_file: Annotated[
        Path | None,
        typer.Option(help="Read the new account's password from this file (else a prompt)."),
    ] = None,
) -> None:
    """Create NAME on the team server (as its admin) and grant ROLE's permissions.

    Scientists log runs and register candidates (EDIT on `<task>`, READ on
    `<task>.champion`); maintainers also move `@champion` (EDIT on `<task>.champion`).
    Run again to change a role. The admin signs in with MLFLOW_TRACKING_USERNAME and
    MLFLOW_TRACKING_PASSWORD (or the admin password file `make server` uses).
    """
    from pipeline.core import team_server
    from pipeline.tasks import TASKS, Trains

    tasks = [task for task, spec in TASKS.items() if isinstance(spec, Trains)]
    try:
        done = team_server.add_user(name, role, _password(password_file), tasks)
    except PipelineError as err:
        raise fail(err) from None
    stdout.print(escape(done))
