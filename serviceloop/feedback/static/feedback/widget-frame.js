/* Inside the widget's iframe: tell the host page how tall the content is (nothing else). */
(function () {
  "use strict";
  function report() {
    if (window.parent === window) { return; }
    var key = document.body.getAttribute("data-site");
    window.parent.postMessage({ serviceloopWidget: key, height: document.documentElement.scrollHeight }, "*");
  }
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  document.addEventListener("DOMContentLoaded", report);
})();
