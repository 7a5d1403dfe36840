"""A Starlette router that finds a fixed path by dictionary, not by trying every route.

Starlette's router tries each route's regex in order until one matches. quire serves some
ninety XRPC methods at fixed paths, then the `/xrpc/{method}` proxy catch-all: a method
near the end of the list, or any proxied `app.bsky.*` call, paid one regex per route
before it ran (about 9 µs for `createRecord`, eleventh in the list, and 70 µs for a
proxied call, measured with `Route.matches` here).

A fixed path that matches fully (path and method) is handed to its route at once. Anything
else (a path with parameters, a wrong method, a miss) goes to the routes that have
parameters, in their order; and if none takes it, to Starlette's own walk over every route,
so 405s, slash redirects and 404s are exactly Starlette's.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send


class ExactPathRouter(Router):
    """`Router` with a dictionary of its parameterless routes."""

    def __init__(self, routes: list[BaseRoute], **options: Any) -> None:
        super().__init__(routes=routes, **options)
        self._exact: dict[str, Route] = {}
        self._others: list[BaseRoute] = []
        for route in self.routes:
            if (
                isinstance(route, Route)
                and not route.param_convertors
                and route.path not in self._exact
                and not self._shadowed(route.path)
            ):
                self._exact[route.path] = route
            else:
                self._others.append(route)

    def _shadowed(self, path: str) -> bool:
        """Could a route with parameters before this one take `path`? (Then it keeps the
        ordered walk, as Starlette would give that route the request.)"""
        for other in self._others:
            regex = getattr(other, "path_regex", None)
            if regex is None or regex.match(path):
                return True
        return False

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("router", self)
            route = self._exact.get(scope["path"])
            for candidate in (route,) if route is not None else self._others:
                match, child_scope = candidate.matches(scope)
                if match is Match.FULL:
                    scope["route"] = candidate
                    scope.update(child_scope)
                    await candidate.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)
