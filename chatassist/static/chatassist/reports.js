// The reports' chart geometry (widths, offsets, flex-grow), computed on the server, is in
// data-ca-style attributes rather than style attributes: the Content-Security-Policy
// (style-src 'self') refuses inline styles, while properties set here through the CSSOM
// are allowed. Each attribute holds "property: value" declarations separated by ";".
(function () {
    "use strict";

    function applyStyles(root) {
        root.querySelectorAll("[data-ca-style]").forEach(function (element) {
            element.getAttribute("data-ca-style").split(";").forEach(function (declaration) {
                var colon = declaration.indexOf(":");
                if (colon > 0) {
                    element.style.setProperty(
                        declaration.slice(0, colon).trim(),
                        declaration.slice(colon + 1).trim()
                    );
                }
            });
        });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", function () { applyStyles(document); });
    } else {
        applyStyles(document);
    }
})();
