// treaty's own script for the web workspace: it adds to the pages, which
// read without it. htmx (and its SSE extension) swap the pages that follow
// the head as events arrive; this script says on every page whether the
// stream is live and what the latest event was.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  function setStatus(text, state) {
    var el = byId("live-status");
    if (!el) { return; }
    el.textContent = text;
    el.setAttribute("data-state", state);
  }

  document.addEventListener("htmx:sseOpen", function () {
    setStatus("live", "open");
  });
  document.addEventListener("htmx:sseError", function () {
    setStatus("reconnecting…", "error");
  });

  // One SSE message is one event of the log, shaped as a line of
  // `treaty log --format json`.
  document.addEventListener("htmx:sseMessage", function (e) {
    var data = e.detail && e.detail.data;
    if (typeof data !== "string") { return; }
    var entry;
    try { entry = JSON.parse(data); } catch (err) { return; }
    var note = byId("head-note");
    if (note) {
      note.textContent = "event " + entry.event + ": " + entry.summary;
      note.setAttribute("data-event", String(entry.event));
    }
    // A page pinned to a past moment stays as it is, and says that the
    // negotiation has moved on.
    var main = byId("content");
    if (main && main.getAttribute("data-live") !== "true") {
      var behind = byId("behind");
      if (behind) { behind.hidden = false; }
    }
  });
})();
