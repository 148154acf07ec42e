// Keyboard tagging and saving without a page reload. The page works without this file.
// "Save and next" shows the next passage in place: the server answers with its page's content.
(function () {
  "use strict";
  if (!document.getElementById("tag-form")) return;
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const LABEL_KEYS = { "1": "reported", "2": "quoted", "3": "editorial", r: "reported", q: "quoted", e: "editorial" };
  // The passage on screen; set by start() for the page and for each passage shown in place.
  let form, claims, statusBox, saveUrl;
  let focused = 0;

  function start() {
    form = document.getElementById("tag-form");
    claims = Array.from(form.querySelectorAll("fieldset.claim"));
    statusBox = document.getElementById("save-status");
    saveUrl = form.getAttribute("action");
    focused = 0;
    form.addEventListener("change", (event) => {
      const fieldset = event.target.closest("fieldset.claim");
      if (fieldset) markDirty(fieldset);
    });
    form.addEventListener("submit", async (event) => {
      const action = event.submitter ? event.submitter.value : "stay";
      event.preventDefault();
      const saved = await save(action === "next" ? "next" : null);
      if (saved && saved.next_url) goTo(saved);
    });
    claims.forEach((fieldset, index) => fieldset.addEventListener("focusin", () => {
      if (focused !== index) focusClaim(index);
    }));
    focusClaim(0);
  }

  // After "Save and next": the next passage's page content in place of this one (and in the
  // browser's history), or a plain visit when there is none (nothing left to review).
  function goTo(saved) {
    if (!saved.page) return window.location.assign(saved.next_url);
    const layout = document.querySelector(".annotate-layout");
    const template = document.createElement("template");
    template.innerHTML = saved.page;
    const next = template.content.querySelector(".annotate-layout");
    layout.replaceWith(next);
    document.title = next.dataset.title;
    history.pushState({}, "", saved.next_url);
    document.querySelectorAll(".flashes").forEach((box) => box.remove());
    window.scrollTo(0, 0);
    start();
    showStatus("Saved; this is the next passage.", "ok");
  }

  function focusClaim(index) {
    if (!claims.length) return;
    focused = Math.max(0, Math.min(claims.length - 1, index));
    claims.forEach((fieldset, i) => {
      const active = i === focused;
      fieldset.classList.toggle("focused", active);
      const span = document.getElementById("claim-span-" + fieldset.dataset.claimId);
      if (span) span.classList.toggle("focused", active);
    });
    const radio = claims[focused].querySelector("input:checked") || claims[focused].querySelector("input[type=radio]");
    radio.focus();
    claims[focused].scrollIntoView({ block: "nearest" });
  }

  function setLabel(label) {
    const input = claims[focused].querySelector('input[value="' + label + '"]');
    input.checked = true;
    input.focus();
    markDirty(claims[focused]);
  }

  function markDirty(fieldset) {
    fieldset.classList.add("dirty");
    fieldset.querySelector("[data-state]").textContent = "Changed, not saved";
  }

  function collect() {
    const labels = {}, versions = {}, unsure = {}, notes = {};
    claims.forEach((fieldset) => {
      const id = fieldset.dataset.claimId;
      const checked = fieldset.querySelector("input[type=radio]:checked");
      versions[id] = parseInt(fieldset.querySelector('input[name="version-' + id + '"]').value, 10);
      if (!checked) return;
      labels[id] = checked.value;
      unsure[id] = fieldset.querySelector('input[name="unsure-' + id + '"]').checked;
      notes[id] = fieldset.querySelector('input[name="note-' + id + '"]').value.trim();
    });
    return { labels: labels, versions: versions, unsure: unsure, notes: notes, outlet: form.querySelector("#outlet").value };
  }

  async function undo() {
    showStatus("Undoing…");
    const response = await fetch(form.dataset.undoUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json", "Content-Type": "application/json" },
      body: "{}",
      credentials: "same-origin",
    }).catch(() => null);
    if (!response) return showStatus("Could not reach the server.", "error");
    const data = await response.json().catch(() => ({}));
    if (!response.ok) return showStatus(data.error || "Nothing to undo.", "error");
    window.location.assign(saveUrl.replace(/\/passages\/\d+$/, "/passages/" + data.passage_id));
  }

  function showStatus(text, kind) {
    statusBox.textContent = text;
    statusBox.className = "save-status " + (kind || "");
  }

  // Resolves to the server's answer, or null when nothing was saved. With then = "next" the
  // server also reserves the next passage and answers with its URL (one request, not two).
  async function save(then) {
    showStatus("Saving…");
    let response;
    try {
      response = await fetch(saveUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken, Accept: "application/json" },
        body: JSON.stringify(Object.assign(collect(), then ? { then: then } : {})),
        credentials: "same-origin",
      });
    } catch (err) {
      showStatus("Could not reach the server; nothing was saved. Try again.", "error");
      return null;
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      let message = data.error || "Saving failed (" + response.status + ").";
      if (data.current && Object.keys(data.current).length) {
        message += " Current values: " + Object.entries(data.current).map(([id, label]) => "claim " + claimNumber(id) + " = " + label).join(", ") + ". Reload to continue.";
      }
      showStatus(message, "error");
      return null;
    }
    Object.entries(data.annotations).forEach(([id, annotation]) => {
      const fieldset = document.getElementById("claim-" + id);
      fieldset.querySelector('input[name="version-' + id + '"]').value = annotation.version;
      fieldset.classList.remove("dirty");
      fieldset.classList.add("saved");
      fieldset.querySelector("[data-state]").textContent = "Saved as " + annotation.label;
    });
    if (data.progress) document.getElementById("progress").textContent = data.progress;
    showStatus("Saved.", "ok");
    return data;
  }

  function claimNumber(id) {
    const index = claims.findIndex((fieldset) => fieldset.dataset.claimId === String(id));
    return index + 1;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.tagName === "SELECT" || target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "radio")) return;
    const key = event.key;
    if (LABEL_KEYS[key] && claims.length) {
      event.preventDefault();
      setLabel(LABEL_KEYS[key]);
    } else if (key === "j" || key === "ArrowDown") {
      event.preventDefault();
      focusClaim(focused + 1);
    } else if (key === "k" || key === "ArrowUp") {
      event.preventDefault();
      focusClaim(focused - 1);
    } else if (key === "Enter" && target.tagName !== "BUTTON" && target.tagName !== "A") {
      event.preventDefault();
      save();
    } else if (key === "n") {
      event.preventDefault();
      window.location.assign(form.dataset.nextUrl);
    } else if (key === "u") {
      event.preventDefault();
      undo();
    }
  });

  // Back and forward between passages shown in place: load the page the address names.
  window.addEventListener("popstate", () => window.location.reload());

  start();
})();
