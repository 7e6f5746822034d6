// google.script.run for the local emulator: the same chaining semantics as Apps Script's client API.
//   google.script.run.withSuccessHandler(f).withFailureHandler(g).withUserObject(o).someFunction(arg)
// Each with* returns a new runner (the old one is unchanged). Calling a server function POSTs
// {args:[...]} to /rpc/<name>; the server answers {result} or {error}. Handlers run asynchronously:
// success(result, userObject) or failure(Error(server's error text), userObject).
(function () {
  'use strict';

  function toError(error, fallback) {
    if (error instanceof Error) return error;
    var text = typeof error === 'string' ? error : error && typeof error.message === 'string' ? error.message : fallback;
    return new Error(text || fallback);
  }

  function invoke(name, args, handlers) {
    function fail(error) {
      if (handlers.failure) handlers.failure(error, handlers.userObject);
      else console.error('google.script.run.' + name + ' failed: ' + error.message);
    }
    if (/_$/.test(name)) {
      // Apps Script hides private functions (names ending in _) from the client.
      Promise.resolve().then(function () {
        fail(new Error('Script function not found: ' + name));
      });
      return;
    }
    var body;
    try {
      // Like the real client: only JSON-like values cross; functions and DOM nodes do not.
      body = JSON.stringify({ args: args });
    } catch (error) {
      Promise.resolve().then(function () {
        fail(new Error('Invalid argument to ' + name + ': ' + (error && error.message)));
      });
      return;
    }
    fetch('/rpc/' + encodeURIComponent(name), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body })
      .then(function (response) {
        return response.text().then(function (text) {
          var parsed = null;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch (e) {
            parsed = null;
          }
          if (!parsed || typeof parsed !== 'object') throw new Error('The server answered ' + response.status + ' ' + response.statusText);
          if ('error' in parsed && parsed.error !== undefined && parsed.error !== null) throw toError(parsed.error, 'The server reported an error');
          return parsed.result;
        });
      })
      .then(
        function (result) {
          if (handlers.success) handlers.success(result, handlers.userObject);
        },
        function (error) {
          fail(toError(error, 'NetworkError: the request to ' + name + ' failed'));
        },
      );
  }

  function runner(handlers) {
    var base = {
      withSuccessHandler: function (f) {
        return runner({ success: f, failure: handlers.failure, userObject: handlers.userObject });
      },
      withFailureHandler: function (f) {
        return runner({ success: handlers.success, failure: f, userObject: handlers.userObject });
      },
      withUserObject: function (o) {
        return runner({ success: handlers.success, failure: handlers.failure, userObject: o });
      },
    };
    // Any other property is a server function. `then` stays undefined so a runner is never mistaken for a promise.
    return new Proxy(base, {
      get: function (target, name) {
        if (name in target) return target[name];
        if (typeof name !== 'string' || name === 'then' || name === 'toJSON') return undefined;
        return function () {
          invoke(name, Array.prototype.slice.call(arguments), handlers);
        };
      },
    });
  }

  var google = (window.google = window.google || {});
  google.script = google.script || {};
  google.script.run = runner({ success: null, failure: null, userObject: undefined });
  google.script.host = {
    origin: location.origin,
    close: function () {},
    setHeight: function () {},
    setWidth: function () {},
    editor: { focus: function () {} },
  };
})();
