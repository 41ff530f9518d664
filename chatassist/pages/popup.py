"""Django's related-object pop-up, answered by the settings page's working-time dialog.

Beside a staff member's working time, the admin's staff form has a "+" and a pencil that open
the admin's add/change URL of a working time in a separate window, with ``_popup=1`` and
``_to_field``. ``WorkingTimeAdmin`` sends those URLs on to the settings page's pop-up, so
that there is one way to create or edit a working time. That window must end the way a
ModelAdmin's does (``ModelAdmin.response_add`` / ``response_change``): with the template
``admin/popup_response.html``, whose script hands the saved working time back to the staff
form's select and closes the window. This module is the whole of that contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminToField
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.http import HttpRequest, QueryDict
from django.template.response import TemplateResponse

from staff.models import WorkingTime

POPUP_RESPONSE_TEMPLATES = [
    "admin/staff/workingtime/popup_response.html",
    "admin/staff/popup_response.html",
    "admin/popup_response.html",
]


def popup_query(params: QueryDict) -> str:
    """``?_popup=1&_to_field=id`` when ``params`` ask for a pop-up, else ``""``: what the
    admin's add/change URL passes on to the settings page's create/edit URL."""
    if IS_POPUP_VAR not in params:
        return ""
    # A QueryDict item is a str, or [] for a key given with no value (MultiValueDict).
    kept: dict[str, str | list[object]] = {IS_POPUP_VAR: params[IS_POPUP_VAR]}
    if params.get(TO_FIELD_VAR):
        kept[TO_FIELD_VAR] = params[TO_FIELD_VAR]
    return "?" + urlencode(kept)


@dataclass(frozen=True)
class AdminPopup:
    """A working-time dialog opened by the admin's related-object buttons."""

    to_field: str = ""  # the field the staff form's select holds; "" means the primary key

    @classmethod
    def of(cls, request: HttpRequest, params: QueryDict) -> AdminPopup | None:
        """None unless ``params`` carry ``_popup``. A ``_to_field`` the admin would refuse is
        refused the same way (DisallowedModelAdminToField: a 400, as the admin answers)."""
        if IS_POPUP_VAR not in params:
            return None
        to_field = params.get(TO_FIELD_VAR, "")
        model_admin = admin.site.get_model_admin(WorkingTime)
        if to_field and not model_admin.to_field_allowed(request, to_field):
            raise DisallowedModelAdminToField(f"The field {to_field} cannot be referenced.")
        return cls(to_field)

    @property
    def hidden_fields(self) -> dict[str, str]:
        """The inputs the dialog's form repeats, so the POST is known as the pop-up's."""
        return {IS_POPUP_VAR: "1", TO_FIELD_VAR: self.to_field}

    def saved_response(
        self, request: HttpRequest, working_time: WorkingTime, *, edited_id: int | None
    ) -> TemplateResponse:
        """What ModelAdmin.response_add (``edited_id`` None) or response_change answers."""
        attr = self.to_field or WorkingTime._meta.pk.attname
        new_value = str(working_time.serializable_value(attr))
        if edited_id is None:
            data = {"value": new_value, "obj": str(working_time)}
        else:
            # As response_change: "value" is the id in the URL, the option being replaced.
            data = {
                "action": "change",
                "value": str(edited_id),
                "obj": str(working_time),
                "new_value": new_value,
            }
        return TemplateResponse(
            request, POPUP_RESPONSE_TEMPLATES, {"popup_response_data": json.dumps(data)}
        )
