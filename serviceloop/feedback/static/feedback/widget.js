/* serviceloop feedback widget: no dependencies, no inline script, works under a strict CSP.
 *   <script src="https://serviceloop.example/static/feedback/widget.js" data-site="KEY" async></script>
 * inserts an iframe to https://serviceloop.example/feedback/w/KEY/ right after the script tag
 * (or inside the element named by data-target). The host page needs serviceloop's origin in its
 * script-src and frame-src; the frame itself is served by serviceloop with its own CSP. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var key = script.getAttribute("data-site");
  if (!key || !/^[a-z0-9]+$/.test(key)) { return; }
  var origin = new URL(script.src).origin;
  var frame = document.createElement("iframe");
  frame.src = origin + "/feedback/w/" + encodeURIComponent(key) + "/";
  frame.title = script.getAttribute("data-title") || "Feedback";
  frame.loading = "lazy";
  frame.className = "serviceloop-widget";
  /* CSSOM properties, not a style attribute: allowed under a strict style-src. */
  frame.style.border = "0";
  frame.style.width = "100%";
  frame.style.maxWidth = "520px";
  frame.style.height = "190px";
  frame.style.colorScheme = "normal";
  var target = script.getAttribute("data-target");
  var place = target ? document.getElementById(target) : null;
  if (place) { place.appendChild(frame); } else { script.parentNode.insertBefore(frame, script.nextSibling); }
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
    var data = event.data || {};
    if (data.serviceloopWidget === key && typeof data.height === "number" && data.height > 0 && data.height < 2000) {
      frame.style.height = Math.ceil(data.height) + "px";
    }
  });
})();
