/* The kanban board of the pipeline (SAL-3): SortableJS moves the cards, htmx posts each drop to the same
   move-stage service as the detail page. A refusal (stale version, closed meanwhile) puts the card back
   where it was and shows the server's message. */
(function () {
  "use strict";
  function init() {
    var board = document.getElementById("kanban");
    if (!board || !window.Sortable || !window.htmx) return;
    var message = document.getElementById("board-message");
    function show(text) {
      message.textContent = text;
      message.style.display = "";
    }
    board.querySelectorAll(".kanban-cards").forEach(function (list) {
      window.Sortable.create(list, {
        group: "board-" + board.dataset.group,
        draggable: ".kanban-card",
        animation: 120,
        onEnd: function (evt) {
          var card = evt.item;
          if (evt.from === evt.to && evt.oldIndex === evt.newIndex) return;
          var prev = card.previousElementSibling;
          var next = card.nextElementSibling;
          var from = evt.from;
          var oldIndex = evt.oldIndex;
          function revert(text) {
            card.remove();
            from.insertBefore(card, from.children[oldIndex] || null);
            show(text || board.dataset.stale);
          }
          card.addEventListener("htmx:afterRequest", function done(e) {
            card.removeEventListener("htmx:afterRequest", done);
            if (e.detail.successful) {
              message.style.display = "none";
            } else {
              var xhr = e.detail.xhr;
              revert(xhr && xhr.status ? xhr.responseText : "");
            }
          });
          window.htmx.ajax("POST", card.dataset.moveUrl, {
            source: card,
            target: card,
            swap: "outerHTML",
            values: {
              version: card.dataset.version,
              stage: evt.to.dataset.stage,
              after_id: prev ? prev.dataset.id : "",
              before_id: next ? next.dataset.id : "",
              department: board.dataset.department,
              owner: board.dataset.owner,
            },
          });
        },
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
