// Live pages: listen to /api/v1/events and offer a refresh when something new arrives.
// The page works fully without this file; it only adds the notice. No inline script,
// no eval, text set with textContent (CSP: script-src 'self').
(function () {
  "use strict";
  var main = document.querySelector("main[data-live]");
  var notice = document.getElementById("live-notice");
  if (!main || !notice || !window.EventSource) {
    return;
  }
  var filter = main.getAttribute("data-live");
  var onStoryPage = filter.indexOf("story=") === 0;
  var seen = {};
  var count = 0;
  var link = notice.querySelector("a");

  function show() {
    var what = onStoryPage
      ? count + (count === 1 ? " update to this story" : " updates to this story")
      : count + (count === 1 ? " new or updated story" : " new or updated stories");
    link.textContent = what + " \u2014 refresh";
    notice.hidden = false;
  }

  function note(event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    // Count each story (or, on a story page, each article) once.
    var key = onStoryPage ? event.type + ":" + (data.article_id || data.headline) : data.story_id;
    if (key === undefined || key === null || seen[key]) {
      return;
    }
    seen[key] = true;
    count += 1;
    show();
  }

  link.addEventListener("click", function (event) {
    event.preventDefault();
    window.location.reload();
  });
  var source = new EventSource("/api/v1/events" + (filter ? "?" + filter : ""));
  var kinds = onStoryPage
    ? ["article.stored", "story.headline", "story.merged"]
    : ["story.new", "story.grew", "story.headline"];
  kinds.forEach(function (kind) {
    source.addEventListener(kind, note);
  });
})();
