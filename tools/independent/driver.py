"""Owns: Northwind's own smlite driver, as its vendor would write it (docs/vendors.md, "A driver of your own").

The reference driver speaks everything Northwind serves (docs/contract.md); this
one adds the optional capability ``sm-portal-sign-in``: Northwind's internal
users can reach the SM Portal by signing in rather than through a link in their
mail (the alternative ``alt-internal-portal-signin``). ``portal_links_as(user)``
signs in over HTTP (an administrator-issued session, POST
/admin/api/sm-portal-sessions) and lists that user's portal messages
(GET /sm-portal/api/my/messages): one link per message, which ``portal_open``
accepts. Named in the profile as ``driver = "tools.independent.driver:NorthwindDriver"``.
"""

from __future__ import annotations

from harness.drivers.reference import ReferenceDriver
from harness.errors import HarnessError


class NorthwindDriver(ReferenceDriver):
    supported = ReferenceDriver.supported | {"sm-portal-sign-in"}

    def portal_links_as(self, user: str) -> list[str]:
        answer = self._http("POST", "/admin/api/sm-portal-sessions", json={"address": user}, auth=self.admin_token)
        if answer.status != 201 or not isinstance(answer.body, dict):
            raise HarnessError("Northwind SM Portal sign-in failed", f"status {answer.status}", answer.text[:300])
        session = answer.body["session"]
        listed = self._http("GET", "/sm-portal/api/my/messages", auth=session)
        if listed.status != 200 or not isinstance(listed.body, dict):
            raise HarnessError("Northwind SM Portal listing failed", f"status {listed.status}", listed.text[:300])
        return [str(item["link"]) for item in listed.body.get("items", []) if item.get("link")]
