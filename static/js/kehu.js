/*
 * Kehu 客户 CRM — kehu.js
 * Small vanilla helpers; works with the vendored htmx (static/vendor/htmx/)
 * when it is loaded first, and degrades gracefully without it.
 *
 *  (a) .nav-toggle toggles .nav-open on .app (phone navigation).
 *  (b) .toast elements hide themselves after 4 s (fade, then removed).
 *  (c) htmx: defaultSwapStyle = "innerHTML"; every htmx request carries the
 *      X-CSRFToken header (csrftoken cookie, else <meta name="csrf-token">).
 *  (d) htmx:responseError shows a toast with the JSON body's "message", else
 *      "请求失败 / Request failed".
 *  (e) data-confirm="确定删除？" on a form, button or link asks confirm() first.
 *
 * Public API: window.Kehu.toast(message, kind) where kind is "info" |
 * "success" | "error" | "warning"; window.Kehu.csrfToken().
 */
(function () {
  "use strict";

  var TOAST_MS = 4000;
  var FADE_MS = 300;
  var GENERIC_ERROR = "请求失败 / Request failed";

  /* ------------------------------------------------------------ helpers -- */
  function getCookie(name) {
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i++) {
      var c = parts[i].trim();
      if (c.substring(0, name.length + 1) === name + "=") {
        return decodeURIComponent(c.substring(name.length + 1));
      }
    }
    return null;
  }

  function csrfToken() {
    var fromCookie = getCookie("csrftoken");
    if (fromCookie) return fromCookie;
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.getAttribute("content")) return meta.getAttribute("content");
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : null;
  }

  /* -------------------------------------------------------------- toast -- */
  function toastContainer() {
    var c = document.querySelector(".toast-container");
    if (!c) {
      c = document.createElement("div");
      c.className = "toast-container";
      c.setAttribute("aria-live", "polite");
      document.body.appendChild(c);
    }
    return c;
  }

  function hideToast(el) {
    if (!el || el.dataset.kehuHiding) return;
    el.dataset.kehuHiding = "1";
    el.classList.add("hide");
    setTimeout(function () {
      if (el.parentNode) el.parentNode.removeChild(el);
    }, FADE_MS);
  }

  function scheduleToast(el) {
    if (el.dataset.kehuToast) return;            // already scheduled
    el.dataset.kehuToast = "1";
    if (el.hasAttribute("data-sticky")) return;  // opt out of auto-hide
    setTimeout(function () { hideToast(el); }, TOAST_MS);
  }

  function scheduleToastsIn(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.classList && root.classList.contains("toast")) scheduleToast(root);
    var list = root.querySelectorAll(".toast");
    for (var i = 0; i < list.length; i++) scheduleToast(list[i]);
  }

  function toast(message, kind) {
    var el = document.createElement("div");
    el.className = "toast" + (kind ? " toast-" + kind : "");
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    el.textContent = message;
    toastContainer().appendChild(el);
    scheduleToast(el);
    return el;
  }

  /* ---------------------------------------------------------- nav toggle -- */
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest ? evt.target.closest(".nav-toggle") : null;
    if (btn) {
      var app = btn.closest(".app") || document.querySelector(".app");
      if (app) {
        var open = app.classList.toggle("nav-open");
        btn.setAttribute("aria-expanded", open ? "true" : "false");
      }
      return;
    }
    // clicking a toast dismisses it
    var t = evt.target.closest ? evt.target.closest(".toast") : null;
    if (t) hideToast(t);
  });

  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape") {
      var app = document.querySelector(".app.nav-open");
      if (app) app.classList.remove("nav-open");
    }
  });

  /* ------------------------------------------------------- data-confirm -- */
  // Forms: ask on submit. Buttons/links (not inside a confirming form): ask
  // on click, in the capture phase so it runs before htmx's own handlers.
  // Elements that use htmx's hx-confirm are left to htmx.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-confirm")) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("click", function (evt) {
    var el = evt.target.closest ? evt.target.closest("[data-confirm]") : null;
    if (!el || el.tagName === "FORM") return;
    if (!window.confirm(el.getAttribute("data-confirm"))) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  // htmx-triggered submits of a form with data-confirm (hx-post on the form)
  // fire "submit" too, so the handler above covers them.

  /* --------------------------------------------------------------- htmx -- */
  function setupHtmx() {
    var htmx = window.htmx;
    if (!htmx || setupHtmx.done) return;
    setupHtmx.done = true;
    htmx.config.defaultSwapStyle = "innerHTML";

    document.body.addEventListener("htmx:configRequest", function (evt) {
      var token = csrfToken();
      if (token) evt.detail.headers["X-CSRFToken"] = token;
    });

    document.body.addEventListener("htmx:responseError", function (evt) {
      var xhr = evt.detail && evt.detail.xhr;
      var message = null;
      if (xhr) {
        try {
          var data = JSON.parse(xhr.responseText);
          if (data && typeof data.message === "string" && data.message) message = data.message;
        } catch (e) { /* not JSON */ }
      }
      toast(message || GENERIC_ERROR, "error");
    });

    document.body.addEventListener("htmx:sendError", function () {
      toast(GENERIC_ERROR, "error");
    });

    // toasts that arrive in swapped content (e.g. out-of-band messages)
    document.body.addEventListener("htmx:load", function (evt) {
      scheduleToastsIn(evt.target);
    });
  }

  // Birthday fields (MKT-3): the lunar month/day/leap selects show only for a 农历 birthday.
  function syncBirthday(select) {
    var form = select.form; if (!form) return;
    var lunar = select.value === "lunar";
    ["lunar_birth_month", "lunar_birth_day", "lunar_birth_leap"].forEach(function (name) {
      var box = form.querySelector('[data-field="' + name + '"]');
      if (box) box.style.display = lunar ? "" : "none";
    });
  }
  function setupBirthdays(root) {
    root.querySelectorAll('select[name="birthday_calendar"]').forEach(syncBirthday);
  }
  document.addEventListener("change", function (evt) {
    if (evt.target && evt.target.name === "birthday_calendar") syncBirthday(evt.target);
  });

  function init() {
    scheduleToastsIn(document);
    setupHtmx();
    setupBirthdays(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  // Set htmx config as early as possible (htmx reads it on its own init).
  if (window.htmx) window.htmx.config.defaultSwapStyle = "innerHTML";

  window.Kehu = { toast: toast, csrfToken: csrfToken, hideToast: hideToast };
})();
