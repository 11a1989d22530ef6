// Tutela portal: every action is a call to the public JSON API.
//
// A form with data-api="METHOD /path/{name}" is sent with fetch: its fields as a JSON body, the
// session cookie, and the page's CSRF token in X-CSRF-Token. {name} in the path is taken from
// the form's data-name attribute. What happens on success is data-then:
//   reload           reload the page
//   go:/path         open another page (go:next follows the form's "next" field)
//   show:ID          put the answer's fields into the element ID's [data-field] children
//                    (data-field="owner_key.key" reads a member of a member), and
//                    show it (the secret of a new API key, shown once)
//   go:report        open the page of the report the answer names (its report_id)
// data-body-file="NAME" sends the file chosen in the form's file field NAME as the body, as it is
// (an ARM template, a Terraform plan, a Resource Graph export), instead of the fields as JSON;
// its other fields go in the query string (checkboxes sharing a name as one comma-separated value).
// A submit button may carry its own data-api and data-then (a "Dry run" beside "Scan"); as in
// an HTML form, a button's name=value is sent only when it is the one pressed.
// A DELETE sends its form's fields as JSON when it has any, and no body otherwise.
// A GET form with data-navigate (single sign-on) is followed as a plain navigation.
// A 422's field errors are written next to their fields; any other error above the form.
// Fields: checkboxes sharing a name make a list; data-type="number" sends a number and
// data-type="boolean" true or false (from the value "true" or "false"); an empty optional field
// is left out; a field with data-omit is never sent; data-type="lines" sends a list of the
// field's lines (commas and spaces separate too), blank ones dropped.
"use strict";

(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function body(form, submitter) {
    var data = {};
    var lists = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.disabled || field.hasAttribute("data-omit")) return;
      if (field.type === "submit" && field !== submitter) return;
      if (field.type === "checkbox") {
        if (field.hasAttribute("data-single")) {
          data[field.name] = field.checked;
          return;
        }
        lists[field.name] = lists[field.name] || [];
        if (field.checked) lists[field.name].push(field.value);
        return;
      }
      if (field.type === "radio" && !field.checked) return;
      if (field.value === "" && !field.required) return;
      if (field.dataset.type === "lines") {
        data[field.name] = field.value.split(/[\s,]+/).filter(function (line) { return line; });
      } else if (field.dataset.type === "number") data[field.name] = Number(field.value);
      else if (field.dataset.type === "boolean") data[field.name] = field.value === "true";
      else data[field.name] = field.value;
    });
    Object.keys(lists).forEach(function (name) { data[name] = lists[name]; });
    return data;
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (slot) { slot.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (field) {
      field.removeAttribute("aria-invalid");
    });
    var general = form.querySelector("[data-form-error]");
    if (general) { general.textContent = ""; general.hidden = true; }
  }

  function showError(form, message) {
    var general = form.querySelector("[data-form-error]");
    if (general) {
      general.textContent = message;
      general.hidden = false;
      general.focus();
    } else {
      window.alert(message);
    }
  }

  function showErrors(form, status, answer) {
    var detail = answer && answer.detail;
    if (status === 401 && csrfToken()) {  // a signed-in page whose session has ended
      window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      return;
    }
    if (Array.isArray(detail)) {
      var unplaced = [];
      var first = null;
      detail.forEach(function (item) {
        var name = item.loc ? item.loc[item.loc.length - 1] : null;
        var slot = name !== null && form.querySelector('[data-error-for="' + name + '"]');
        var field = name !== null && form.elements[name];
        if (slot) {
          slot.textContent = item.msg;
          if (field && field.setAttribute) field.setAttribute("aria-invalid", "true");
          first = first || field;
        } else {
          unplaced.push(item.msg);
        }
      });
      if (unplaced.length) showError(form, unplaced.join(" "));
      if (first && first.focus && !unplaced.length) first.focus();
      return;
    }
    showError(form, typeof detail === "string" ? detail : "Something went wrong (" + status + ").");
  }

  function fill(target, answer) {
    target.querySelectorAll("[data-field]").forEach(function (slot) {
      var value = slot.dataset.field.split(".").reduce(function (found, name) {
        return found === null || found === undefined ? found : found[name];
      }, answer);
      if (slot.tagName === "INPUT") slot.value = value; else slot.textContent = value;
    });
    target.hidden = false;
    var focus = target.querySelector("[data-focus]") || target;
    focus.focus();
  }

  function then(form, answer, submitter) {
    var next = (submitter && submitter.dataset.then) || form.dataset.then || "reload";
    if (next === "reload") {
      window.location.reload();
    } else if (next === "go:report") {
      window.location.assign("/portal/reports/" + encodeURIComponent(answer.report_id));
    } else if (next === "go:next") {
      window.location.assign(form.elements.next ? form.elements.next.value : "/portal/");
    } else if (next.indexOf("go:") === 0) {
      window.location.assign(next.slice(3));
    } else if (next.indexOf("show:") === 0) {
      form.reset();
      fill(document.getElementById(next.slice(5)), answer || {});
    }
  }

  async function send(form, submitter) {
    var parts = ((submitter && submitter.dataset.api) || form.dataset.api).split(" ");
    var method = parts[0];
    var path = parts[1].replace(/\{(\w+)\}/g, function (_, name) {
      return encodeURIComponent(form.dataset[name] || "");
    });
    var headers = { "Accept": "application/json", "X-CSRF-Token": csrfToken() };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    var fields = body(form, submitter);
    var fileField = form.dataset.bodyFile && form.elements[form.dataset.bodyFile];
    if (fileField) {
      var file = fileField.files[0];
      if (!file) {
        showErrors(form, 422, { detail: [{ loc: [fileField.name], msg: "Choose a file first." }] });
        return;
      }
      headers["Content-Type"] = "application/json";
      init.body = file;
      var query = new URLSearchParams();
      Object.keys(fields).forEach(function (name) {
        if (name === fileField.name) return;
        var value = fields[name];
        query.set(name, Array.isArray(value) ? value.join(",") : String(value));
      });
      if (query.toString()) path += "?" + query.toString();
    } else if (method !== "DELETE" || Object.keys(fields).length) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(fields);
    }
    var button = submitter || form.querySelector('button[type="submit"], button:not([type])');
    if (button) button.disabled = true;
    clearErrors(form);
    try {
      var response = await fetch(path, init);
      var answer = null;
      if (response.status !== 204) {
        try { answer = await response.json(); } catch (ignored) { answer = null; }
      }
      if (response.ok) then(form, answer, submitter); else showErrors(form, response.status, answer);
    } catch (failure) {
      showError(form, "The server could not be reached: " + failure.message);
    } finally {
      if (button) button.disabled = false;
    }
  }

  document.addEventListener("submit", function (event) {
    var away = event.target.closest("form[data-navigate]");
    if (away) {
      // A GET form whose answer redirects to another site (single sign-on's provider): the
      // pages' CSP (form-action 'self') stops a form's redirect there, not a navigation.
      event.preventDefault();
      var query = new URLSearchParams(new FormData(away)).toString();
      window.location.assign(away.getAttribute("action") + (query ? "?" + query : ""));
      return;
    }
    var form = event.target.closest("form[data-api]");
    if (!form) return;
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    send(form, event.submitter);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.value || source.textContent).then(function () {
      button.textContent = "Copied";
    });
  });
})();
