"""Producers: what turns a queued run into records, per kind of run.

Each producer takes the connection, the run (with its ``params``) and a progress reporter,
and returns an :class:`~app.networks.base.AccountData`: the network's live read (its
connector's :meth:`~app.networks.base.Connector.fetch`), its archive
(:meth:`~app.networks.base.Connector.import_archive`), or the demo generator.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from app.demo.data import demo_data
from app.models import Connection, SyncRun
from app.networks import CONNECTORS
from app.networks.base import AccountData, ArchiveError, Login, NetworkError, Origin, Progress
from app.networks.http import client_for
from app.sync.parts import nothing_read
from app.sync.tokens import TokenKeeper

Producer = Callable[[Connection, SyncRun, Progress], AccountData]


def produce_demo(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Synthetic data for ``manage.py demo`` (``params``: ``followers``, ``previous``)."""
    progress.stage("generating demo data")
    return demo_data(
        connection.network,
        followers=run.params.get("followers"),
        previous=bool(run.params.get("previous")),
    )


def produce_import(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Read the uploaded archive at ``params["path"]`` with the network's importer.

    :raises ArchiveError: the network has no importer, the archive cannot be imported, or
        nothing in it could be read (then nothing stored changes).
    """
    connector = CONNECTORS[connection.network]
    if not connector.can_import:
        raise ArchiveError(f"There is no archive import for {connection.network!r}.")
    data = connector.import_archive(run.params["path"], progress)
    if nothing_read(data):
        looked = f" (looked for {', '.join(data.missing_parts)})" if data.missing_parts else ""
        where = (
            f" {connector.name} archives come from {connector.archive_hint}."
            if (connector.archive_hint)
            else ""
        )
        raise ArchiveError(
            f"Nothing in this upload could be imported: no followers, follows or posts were "
            f"found{looked}. Your data is unchanged.{where}"
        )
    return data


def produce_live(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Read the network's API with its connector, the stored sign-in kept fresh by a
    :class:`~app.sync.tokens.TokenKeeper`."""
    connector = CONNECTORS[connection.network]
    if not connector.can_fetch:
        raise NetworkError(f"{connector.label} cannot be read live: import your archive.")
    config = current_app.config
    login = Login(
        instance_url=connection.instance_url,
        external_id=connection.external_id,
        handle=connection.handle,
        options=dict(connection.options or {}),
        params=dict(run.params or {}),
    )
    token_source = reauthorize = None
    if connection.source == Origin.LIVE:
        keeper = TokenKeeper(connection, connector)
        login.access_token = keeper.current()
        if connector.refreshable:
            token_source, reauthorize = keeper.current, keeper.force_refresh
    with client_for(
        connector,
        config,
        login,
        token=login.access_token,
        token_source=token_source,
        reauthorize=reauthorize,
        progress=progress,
    ) as client:
        return connector.fetch(client, login, config)


PRODUCERS: dict[str, Producer] = {
    Origin.DEMO: produce_demo,
    Origin.IMPORT: produce_import,
    Origin.LIVE: produce_live,
    Origin.PUBLIC: produce_live,
}
