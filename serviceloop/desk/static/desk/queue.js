// Keyboard use of the staff queue: j/k move, x select, o/Enter open, a assign selected, / search;
// the bulk bar shows the fields of the chosen action.
(function () {
  "use strict";
  var table = document.getElementById("queue-table");
  if (!table) return;
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]"));
  var current = -1;

  function focusRow(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    rows[current].scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  // The bulk bar shows the fields of the chosen action only; resolving needs its resolution text.
  var action = document.getElementById("id_action");
  var resolution = document.getElementById("id_resolution");
  function showBulkFields() {
    if (!action) return;
    Array.prototype.forEach.call(document.querySelectorAll("#bulk-actions [data-bulk]"), function (field) {
      field.hidden = field.getAttribute("data-bulk") !== action.value;
    });
    if (resolution) resolution.required = action.value === "resolve";
  }
  if (action) { action.addEventListener("change", showBulkFields); showBulkFields(); }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (key === "j") { focusRow(current + 1); event.preventDefault(); }
    else if (key === "k") { focusRow(current - 1); event.preventDefault(); }
    else if (key === "x" && current >= 0) {
      var box = rows[current].querySelector("input[type=checkbox]");
      box.checked = !box.checked; event.preventDefault();
    } else if ((key === "o" || key === "Enter") && current >= 0) {
      window.location.href = rows[current].getAttribute("data-href");
    } else if (key === "a") {
      action.value = "assign"; showBulkFields();
      document.getElementById("id_assignee").focus(); event.preventDefault();
    } else if (key === "/") {
      document.getElementById("q").focus(); event.preventDefault();
    }
  });
})();
