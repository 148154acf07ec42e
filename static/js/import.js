// Upload progress for the import forms: the form is sent with XMLHttpRequest so the browser
// reports upload progress, and the returned page replaces the current one. Without
// JavaScript the form is posted normally.
(function () {
  "use strict";

  function bind() {
    var form = document.getElementById("import-form");
    if (!form || !window.XMLHttpRequest || !window.FormData) {
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form);
    });
  }

  function send(form) {
    var box = document.getElementById(form.getAttribute("data-progress"));
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var button = form.querySelector("button[type=submit]");
    var xhr = new XMLHttpRequest();
    box.hidden = false;
    button.disabled = true;
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        var percent = Math.round((event.loaded / event.total) * 100);
        bar.value = percent;
        text.textContent = percent + "% of " + Math.ceil(event.total / 1024) + " KiB";
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");
      text.textContent = "Uploaded; importing (this can take a while for large files)…";
    });
    xhr.addEventListener("load", function () {
      replacePage(xhr.response);
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      text.textContent = "The upload failed (connection lost?). Try again.";
    });
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.responseType = "document";
    xhr.send(new FormData(form));
  }

  function replacePage(doc) {
    var fresh = doc && doc.getElementById("main");
    var current = document.getElementById("main");
    if (!fresh || !current) {
      window.location.reload();
      return;
    }
    current.replaceWith(document.importNode(fresh, true));
    bind();
    var report = document.getElementById("import-report");
    if (report) {
      report.scrollIntoView();
    }
  }

  bind();
})();
