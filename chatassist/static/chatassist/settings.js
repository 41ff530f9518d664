/* The Chat Assistant settings page, made nicer with a little script.
 *
 * Everything here also works without it: the pop-up is a page the server renders with the
 * <dialog> open, "+ Add a range" and "remove" post the form back, the time zone list is a
 * plain <select>, the dropdowns are <details>. With it: the pop-up is modal and opens
 * without a round trip, ranges are added and removed in place, the time zone list can be
 * searched, and a working time created from a staff row's dropdown is chosen there at once.
 * Every save still goes to the same server views (asking for JSON), which check everything.
 */
(function () {
    "use strict";

    if (typeof HTMLDialogElement !== "function") {
        return; // an old browser: the plain-form page works as it is
    }

    const CLOCK = /^(\d{1,2})(?:[:.hH]?([0-5]\d))?$/;

    function $(selector, root) {
        return (root || document).querySelector(selector);
    }

    function $$(selector, root) {
        return Array.from((root || document).querySelectorAll(selector));
    }

    // --- Pop-ups ---------------------------------------------------------------------------

    function workingTimeDialog() {
        return document.getElementById("ca-working-time-dialog");
    }

    function showModal(dialog) {
        if (dialog.open) {
            dialog.close(); // opened by the server (non-modal): reopen as a modal
        }
        dialog.showModal();
        const first = $("[aria-invalid='true']", dialog) || $("[data-zone-search], input[type='text']", dialog);
        if (first) {
            first.focus();
        }
    }

    function openCreate(forStaff, returnTo) {
        const dialog = workingTimeDialog();
        const blank = document.getElementById("ca-blank-working-time-form");
        if (!dialog || !blank) {
            return false;
        }
        dialog.replaceChildren(blank.content.cloneNode(true));
        $("[data-for-staff-input]", dialog).value = forStaff || "";
        $("input[name='return_to']", dialog).value = returnTo || "working-times";
        prepareForm(dialog);
        showModal(dialog);
        return true;
    }

    /* Opened from the admin's staff form ("+" or pencil beside a working time): this window
       is Django's related-object pop-up, and closing the dialog closes the window. */
    function inAdminPopup(dialog) {
        return Boolean(window.opener && $("[data-admin-popup]", dialog));
    }

    function closeDialog(dialog, link) {
        if (inAdminPopup(dialog)) {
            window.close();
            return;
        }
        dialog.close();
        // Opened by the server at its own URL (.../new/, .../5/, .../delete/): go back to the tab.
        if (link && link.href && window.location.pathname !== new URL(link.href).pathname) {
            window.history.replaceState(null, "", link.href);
        }
    }

    // --- The weekly hours editor -------------------------------------------------------------

    function minutes(text) {
        const match = CLOCK.exec(text.trim());
        if (!match) {
            return null;
        }
        const value = Number(match[1]) * 60 + Number(match[2] || 0);
        return value <= 1440 ? value : null;
    }

    function showNextDay(range) {
        const start = minutes($("[data-start]", range).value);
        let end = minutes($("[data-end]", range).value);
        if (end === 1440) {
            end = 0;
        }
        const pastMidnight = start !== null && end !== null && end !== 0 && end < start;
        $("[data-next-day]", range).hidden = !pastMidnight;
    }

    function renumber(day) {
        const key = day.dataset.day;
        const label = day.dataset.dayLabel;
        $$("[data-range]", day).forEach(function (range, index) {
            const number = index + 1;
            const names = { label: label, number: number };
            $("[data-start]", range).setAttribute("aria-label", interpolate(gettext("%(label)s range %(number)s, from"), names, true));
            $("[data-end]", range).setAttribute("aria-label", interpolate(gettext("%(label)s range %(number)s, to"), names, true));
            const remove = $("[data-remove-range]", range);
            remove.value = key + ":" + index;
            remove.setAttribute("aria-label", interpolate(gettext("Remove %(label)s range %(number)s"), names, true));
        });
        $("[data-off]", day).hidden = $$("[data-range]", day).length > 0;
    }

    function addRange(day) {
        const template = document.getElementById("ca-range-template");
        const range = template.content.firstElementChild.cloneNode(true);
        $("[data-start]", range).name = day.dataset.day + "-start";
        $("[data-end]", range).name = day.dataset.day + "-end";
        $("[data-ranges]", day).append(range);
        renumber(day);
        $("[data-start]", range).focus();
    }

    function removeRange(range) {
        const day = range.closest("[data-day]");
        range.remove();
        renumber(day);
        $("[data-add-range]", day).focus();
    }

    // --- The searchable time zone list ---------------------------------------------------------

    // The server does the search (chatassist/pages/time_zones.py: names in every language,
    // offsets); the list keeps only what it found. A zone hidden by the search is never left
    // chosen behind the manager's back (see showZones).
    let zoneSearchRequest = 0;

    function filterZones(search) {
        const form = search.closest("form");
        const select = $("[data-zone-select]", form);
        const status = $("[data-zone-status]", form);
        const query = search.value.trim();
        const request = ++zoneSearchRequest;
        if (!query) {
            showZones(select, null);
            status.hidden = true;
            select.size = 0;
            return;
        }
        const url = search.dataset.searchUrl + "?" + new URLSearchParams({ q: query });
        fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
            .then(function (response) {
                return response.json();
            })
            .then(function (answer) {
                if (request !== zoneSearchRequest) {
                    return; // a later keystroke has asked again
                }
                const found = new Set(answer.zones.map(function (entry) { return entry.zone; }));
                showZones(select, found);
                status.textContent = answer.message || interpolate(
                    ngettext("%(count)s time zone matches.", "%(count)s time zones match.", found.size),
                    { count: found.size },
                    true,
                );
                status.hidden = false;
                status.dataset.query = query; // which search the list now shows
                status.classList.toggle("is-empty", found.size === 0);
                // While searching, show the matches as a list rather than behind a closed dropdown.
                select.size = found.size ? Math.max(2, Math.min(found.size + 1, 8)) : 0;
            });
    }

    function showZones(select, found) {
        const placeholder = $("[data-zone-placeholder]", select);
        for (const option of select.options) {
            if (option !== placeholder) {
                option.hidden = found !== null && !found.has(option.value);
            }
        }
        $$("optgroup", select).forEach(function (group) {
            group.hidden = !$$("option", group).some(function (option) { return !option.hidden; });
        });
        // While searching, a choice the search hid (or none yet) gives way to the first match,
        // shown selected in the list, or, when nothing matches, to the empty choice (which
        // Save refuses).
        const chosen = select.selectedOptions[0];
        if (found !== null && (!chosen || chosen.hidden || chosen === placeholder)) {
            const first = Array.from(select.options).find(function (option) {
                return option !== placeholder && !option.hidden;
            });
            (first || placeholder).selected = true;
        }
    }

    function prepareForm(root) {
        $$("[data-zone-search]", root).forEach(function (search) {
            search.hidden = false;
        });
        $$("[data-range]", root).forEach(showNextDay);
    }

    // --- Saving the pop-up without leaving the page ---------------------------------------------

    async function submitWorkingTime(form, submitter) {
        const dialog = form.closest("dialog");
        const body = new FormData(form);
        if (submitter && submitter.name) {
            body.set(submitter.name, submitter.value);
        }
        $$("input[type='submit']", form).forEach(function (button) {
            button.disabled = true;
        });
        let response;
        let data;
        try {
            response = await fetch(form.action, {
                method: "POST",
                body: body,
                headers: { Accept: "application/json" },
                credentials: "same-origin",
            });
            data = await response.json();
        } catch (error) {
            form.submit(); // not JSON (a 403, a server error): let the browser show the page
            return;
        }
        if (response.ok && data.editing) {
            // An editor button (an exception added, holidays listed): the pop-up as edited.
            dialog.innerHTML = data.html;
            prepareForm(dialog);
            return;
        }
        if (response.ok) {
            const forStaff = $("[data-for-staff-input]", form).value;
            if (forStaff && offerWorkingTime(data.working_time, forStaff)) {
                dialog.close();
                showMessage(data.message);
            } else {
                window.location.assign(data.redirect);
            }
            return;
        }
        if (data && data.html) {
            dialog.innerHTML = data.html;
            prepareForm(dialog);
            const invalid = $("[aria-invalid='true']", dialog) || $(".errorlist", dialog);
            if (invalid) {
                invalid.scrollIntoView({ block: "center" });
                if (invalid.focus) {
                    invalid.focus();
                }
            }
            return;
        }
        form.submit();
    }

    function showMessage(text) {
        let list = $("ul.messagelist");
        if (!list) {
            list = document.createElement("ul");
            list.className = "messagelist";
            $("#content-start").prepend(list);
        }
        const item = document.createElement("li");
        item.className = "success";
        item.setAttribute("role", "status");
        item.textContent = text;
        list.replaceChildren(item);
    }

    // --- Staff rows: dropdowns and the disk icon -----------------------------------------------

    function optionFor(workingTime) {
        const label = document.createElement("label");
        label.className = "ca-option";
        const radio = document.createElement("input");
        radio.type = "radio";
        radio.name = "working_time";
        radio.value = String(workingTime.id);
        const text = document.createElement("span");
        text.className = "ca-option-text";
        const name = document.createElement("span");
        name.className = "ca-option-name";
        name.textContent = workingTime.name;
        const hint = document.createElement("span");
        hint.className = "ca-option-hint";
        hint.textContent = workingTime.summary + " · " + workingTime.timezone;
        text.append(name, hint);
        label.append(radio, text);
        return label;
    }

    /* Add a just-created working time to every staff row's dropdown and choose it in the row
       it was created from. False if that row is not on this page. */
    function offerWorkingTime(workingTime, staffId) {
        const target = $("[data-staff-form][data-staff-id='" + staffId + "']");
        if (!target) {
            return false;
        }
        $$("[data-menu]").forEach(function (menu) {
            $$("[data-menu-empty]", menu).forEach(function (node) {
                node.remove();
            });
            const before = $(".ca-option-none", menu) || $(".ca-menu-create", menu);
            menu.insertBefore(optionFor(workingTime), before);
        });
        const radio = $("input[name='working_time'][value='" + workingTime.id + "']", target);
        radio.checked = true;
        markDirty(target);
        const dropdown = $("[data-dropdown]", target);
        dropdown.open = false;
        target.closest("tr").scrollIntoView({ block: "center" });
        $(".ca-save", target).focus();
        return true;
    }

    function markDirty(form) {
        const checked = $("input[name='working_time']:checked", form);
        const dirty = checked !== null && checked.value !== form.dataset.saved;
        form.classList.toggle("is-dirty", dirty);
        form.closest("tr").classList.toggle("is-pending", dirty);
        const note = $("[data-unsaved]", form);
        if (note) {
            note.hidden = !dirty;
            const name = checked && checked.closest("label").querySelector(".ca-option-name");
            note.textContent = dirty && name
                ? interpolate(gettext("Not saved yet: %(name)s"), { name: name.textContent }, true)
                : gettext("Not saved yet");
        }
    }

    function closeDropdowns(except) {
        $$("[data-dropdown][open]").forEach(function (dropdown) {
            if (dropdown !== except) {
                dropdown.open = false;
            }
        });
    }

    // --- Wiring --------------------------------------------------------------------------------

    document.addEventListener("click", function (event) {
        const target = event.target;
        const opener = target.closest("[data-open-create]");
        if (opener && openCreate(opener.dataset.forStaff, opener.dataset.returnTo)) {
            event.preventDefault();
            closeDropdowns(null);
            return;
        }
        const closer = target.closest("[data-close-dialog]");
        if (closer && closer.closest("dialog")) {
            event.preventDefault();
            closeDialog(closer.closest("dialog"), closer);
            return;
        }
        const add = target.closest("[data-add-range]");
        if (add) {
            event.preventDefault();
            addRange(add.closest("[data-day]"));
            return;
        }
        const remove = target.closest("[data-remove-range]");
        if (remove) {
            event.preventDefault();
            removeRange(remove.closest("[data-range]"));
            return;
        }
        if (!target.closest("[data-dropdown]")) {
            closeDropdowns(null);
        }
    });

    document.addEventListener(
        "toggle",
        function (event) {
            if (event.target.matches && event.target.matches("[data-dropdown]") && event.target.open) {
                closeDropdowns(event.target);
            }
        },
        true,
    );

    document.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
            const dropdown = event.target.closest && event.target.closest("[data-dropdown][open]");
            if (dropdown) {
                dropdown.open = false;
                $("summary", dropdown).focus();
            }
        }
        if (event.key === "Enter" && event.target.matches("[data-zone-search]")) {
            event.preventDefault(); // choosing a zone, not saving the form
            $("[data-zone-select]", event.target.closest("form")).focus();
        }
    });

    document.addEventListener("input", function (event) {
        const target = event.target;
        if (target.matches("[data-zone-search]")) {
            filterZones(target);
        } else if (target.matches("[data-start], [data-end]")) {
            showNextDay(target.closest("[data-range]"));
        }
    });

    document.addEventListener("change", function (event) {
        const form = event.target.closest("[data-staff-form]");
        if (form && event.target.name === "working_time") {
            markDirty(form);
            const dropdown = $("[data-dropdown]", form);
            dropdown.open = false;
            $(".ca-save", form).focus();
        }
    });

    document.addEventListener("submit", function (event) {
        const form = event.target;
        // In the admin's pop-up window the form posts as a plain form: the server answers with
        // Django's pop-up response page, which hands the working time to the staff form.
        if (form.matches("[data-working-time-form]") && !$("[data-admin-popup]", form)) {
            event.preventDefault();
            submitWorkingTime(form, event.submitter);
        }
    });

    // Pop-ups the server opened (a no-JavaScript link followed, or errors shown): make modal.
    $$("dialog.ca-dialog[open]").forEach(function (dialog) {
        prepareForm(dialog);
        showModal(dialog);
        dialog.addEventListener("cancel", function () {
            if (inAdminPopup(dialog)) {
                window.close();
                return;
            }
            const link = $("[data-close-dialog]", dialog);
            if (link) {
                window.history.replaceState(null, "", link.href);
            }
        });
    });
    $$("[data-staff-form]").forEach(markDirty);
})();
