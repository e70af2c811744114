"""The controller's read side over a store, without the controller: what `sqldistill runs`,
`models` and `report` show when the controller is down. Opened without migrating - a read changes
nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.controller.replies import ReadReplies


class StoreUnreadable(Exception):
    """Why the store cannot be read, in words that finish "the controller is not running and ..."."""


def read_replies(url: str) -> ReadReplies:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from services.controller.replies import ReadReplies
    from services.controller.run_views import RunViews
    from shared.store import Store

    try:
        store = Store.existing(url)
        if store is None:
            raise StoreUnreadable(f"there is no store at {url.removeprefix('sqlite:///')} yet")
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1 FROM runs LIMIT 1"))
    except SQLAlchemyError as exc:
        first_line = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        raise StoreUnreadable(f"the store cannot be read ({first_line})") from None
    return ReadReplies(RunViews(store))
