"""Values from outside made safe before storage, for imports and live data alike.

Archives and other people's servers send anything: a 300-character handle, a 2,000-character
URL, a NUL byte in a post. PostgreSQL refuses all three (``StringDataRightTruncation``, "text
fields cannot contain NUL"), which would fail a whole import for one value. :func:`make_safe`
cuts over-long values to the column sizes and strips control characters; the sync says how
many values it shortened.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.networks.base import AccountData, Person, Post, PostSpool

#: Column sizes of :mod:`app.models` (people, posts).
SHORT, LONG = 255, 500
KIND = 20
#: Control characters: never in a one-line value; in text only tab, newline and return stay.
_LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Cleaner:
    """Cleans values and counts those it had to shorten."""

    def __init__(self) -> None:
        self.shortened = 0

    def line(self, value: str | None, size: int) -> str | None:
        """A one-line value: control characters removed, cut to ``size``."""
        if value is None:
            return None
        value = _LINE_CONTROLS.sub("", value)
        if len(value) > size:
            self.shortened += 1
            value = value[:size]
        return value

    def text(self, value: str) -> str:
        """Free text: NUL and other control characters removed, line breaks kept."""
        return _TEXT_CONTROLS.sub("", value)

    def person(self, person: Person) -> None:
        person.external_id = self.line(person.external_id, SHORT) or ""
        person.handle = self.line(person.handle, SHORT) or ""
        person.name = self.line(person.name, SHORT)
        person.url = self.line(person.url, LONG)
        person.avatar_url = self.line(person.avatar_url, LONG)
        person.bio = self.text(person.bio) if person.bio else person.bio
        person.links = tuple(link for link in (self.line(x, LONG) for x in person.links) if link)

    def post(self, post: Post) -> None:
        post.external_id = self.line(post.external_id, SHORT) or ""
        post.text = self.text(post.text or "")
        post.url = self.line(post.url, LONG)
        post.kind = self.line(post.kind, KIND) or "post"
        post.in_reply_to = self.line(post.in_reply_to, SHORT)


def make_safe(data: AccountData) -> int:
    """Clean every person, follow and post of ``data`` in place; return how many values were
    cut to fit, after adding a note saying so when any were."""
    cleaner = Cleaner()
    cleaner.person(data.owner)
    renamed: dict[str, str] = {}
    changed: list[tuple[str, Person]] = []
    for pid, person in data.people.items():
        before = _fields(person)
        cleaner.person(person)
        if person.external_id != pid:
            renamed[pid] = person.external_id
        if _fields(person) != before:
            changed.append((pid, person))
    # Stored back after the reading (a spooled mapping hands out copies).
    for pid, person in changed:
        if pid != person.external_id:
            del data.people[pid]
        data.people[person.external_id] = person
    if renamed:
        data.followers = _renamed(data.followers, renamed)
        data.friends = _renamed(data.friends, renamed)
        data.lists_fetched = {renamed.get(pid, pid) for pid in data.lists_fetched}
        data.follows = {
            type(edge)(renamed.get(edge.source, edge.source), renamed.get(edge.target, edge.target))
            for edge in data.follows
        }
    if isinstance(data.posts, PostSpool):
        data.posts.rewrite(cleaner.post)  # a spool hands out copies: changes go back through it
    else:
        for post in data.posts:
            cleaner.post(post)
    if cleaner.shortened:
        count = cleaner.shortened
        data.notes.append(
            f"{count:,} {'value was' if count == 1 else 'values were'} too long to store "
            "(a name, handle or address longer than the network allows) and "
            f"{'was' if count == 1 else 'were'} shortened."
        )
    return cleaner.shortened


def _fields(person: Person) -> tuple[object, ...]:
    return (
        person.external_id,
        person.handle,
        person.name,
        person.url,
        person.avatar_url,
        person.bio,
        person.links,
    )


def _renamed(ids: Sequence[str] | None, renamed: dict[str, str]) -> list[str] | None:
    if ids is None:
        return None
    return [renamed.get(pid, pid) for pid in ids]
