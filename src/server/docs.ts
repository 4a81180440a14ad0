// /docs: an interactive page for /openapi.json — Swagger UI, from the swagger-ui-dist package,
// served by the agent itself from node_modules (no CDN: it works on a host without internet).
// Only the files named here are served, each looked up by its exact URL path, so no request can
// reach another file (no path is ever joined from what the client sent).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DOCS_PATH = '/docs';

const TEXT_JS = 'text/javascript; charset=utf-8';
const TEXT_CSS = 'text/css; charset=utf-8';

/** swagger-ui-dist files the page loads (the source maps only when a developer opens the tools). */
const DIST_FILES: Readonly<Record<string, string>> = {
  'swagger-ui-bundle.js': TEXT_JS,
  'swagger-ui-bundle.js.map': 'application/json; charset=utf-8',
  'swagger-ui.css': TEXT_CSS,
  'swagger-ui.css.map': 'application/json; charset=utf-8',
  'index.css': TEXT_CSS,
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/**
 * No inline script or style, nothing from elsewhere: the page, Swagger UI and the API calls it makes
 * all come from this agent. `data:` images are Swagger UI's icons, inlined in its CSS.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

// Paths are relative so the page also works behind a reverse proxy that adds a prefix: from
// `<prefix>/docs`, `docs/x` is `<prefix>/docs/x` and `openapi.json` is `<prefix>/openapi.json`.
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>netwatch agent API</title>
    <link rel="stylesheet" href="docs/swagger-ui.css" />
    <link rel="stylesheet" href="docs/index.css" />
    <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32" />
    <link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16" />
  </head>
  <body>
    <form id="netwatch-token" class="swagger-ui wrapper" hidden>
      <p>This agent asks for a bearer token (<code>service.server.bearer_token</code>). It is kept in this tab only.</p>
      <p id="netwatch-token-refused" hidden>The agent refused that token.</p>
      <input type="password" name="token" autocomplete="off" required aria-label="bearer token" />
      <button type="submit" class="btn">Use it</button>
    </form>
    <div id="swagger-ui"></div>
    <script src="docs/swagger-ui-bundle.js"></script>
    <script src="docs/init.js"></script>
  </body>
</html>
`;

// Runs in the browser (a file, not inline, so the CSP needs no 'unsafe-inline'). It fetches the
// document itself, to ask for a token when the agent wants one and to keep the examples out of
// "Try it out" (Swagger UI fills each parameter with its example, swagger-ui#5776; the query API's
// filters are ANDed, so with every example set nothing would match).
const INIT = `// netwatch /docs: Swagger UI over this agent's /openapi.json.
'use strict';
(function () {
  var KEY = 'netwatch.bearer_token';
  var specUrl = new URL('openapi.json', document.baseURI).href;
  var form = document.getElementById('netwatch-token');
  // Kept for this tab only.
  var token = sessionStorage.getItem(KEY) || '';
  function authorize(headers) {
    // A token given with Swagger UI's own Authorize button wins.
    if (token && !headers.Authorization) headers.Authorization = 'Bearer ' + token;
    return headers;
  }
  function say(text) {
    document.getElementById('swagger-ui').textContent = text;
  }
  function askForToken() {
    document.getElementById('netwatch-token-refused').hidden = token === '';
    form.hidden = false;
    form.elements.token.focus();
  }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem(KEY, form.elements.token.value.trim());
    location.reload();
  });
  // Each parameter's example moves into its description: "Try it out" starts with no filter set.
  function examplesToText(doc) {
    Object.keys(doc.paths || {}).forEach(function (path) {
      var item = doc.paths[path];
      Object.keys(item).forEach(function (method) {
        (item[method].parameters || []).forEach(function (p) {
          if (p.example === undefined) return;
          p.description = (p.description || '') + ' Example: \`' + p.example + '\`.';
          delete p.example;
        });
      });
    });
    return doc;
  }
  fetch(specUrl, { headers: authorize({ Accept: 'application/json' }) })
    .then(function (res) {
      if (res.status === 401) return askForToken();
      if (!res.ok) return say('GET ' + specUrl + ' answered ' + res.status);
      return res.json().then(function (doc) {
        // The API is where its document is, also behind a proxy that adds a path prefix.
        doc.servers = [{ url: new URL('.', specUrl).href }];
        window.ui = SwaggerUIBundle({
          spec: examplesToText(doc),
          dom_id: '#swagger-ui',
          deepLinking: true,
          displayRequestDuration: true,
          // Never send the document to validator.swagger.io.
          validatorUrl: null,
          requestInterceptor: function (req) {
            authorize(req.headers);
            return req;
          },
        });
      });
    })
    .catch(function (e) {
      say('cannot load ' + specUrl + ': ' + e);
    });
})();
`;

export type DocsAsset =
  | { readonly kind: 'inline'; readonly contentType: string; readonly etag: string; readonly body: Buffer }
  | { readonly kind: 'file'; readonly contentType: string; readonly etag: string; readonly path: string; readonly size: number };

/** Where a request for /docs or under it goes: an asset, a redirect (`/docs/` → `/docs`), or nothing. */
export type DocsAnswer =
  { readonly kind: 'asset'; readonly asset: DocsAsset } | { readonly kind: 'redirect'; readonly location: string } | { readonly kind: 'missing' };

export const isDocsPath = (pathname: string): boolean => pathname === DOCS_PATH || pathname.startsWith(DOCS_PATH + '/');

const inline = (contentType: string, text: string): DocsAsset => {
  const body = Buffer.from(text, 'utf8');
  return { kind: 'inline', contentType, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
};
const OWN: Readonly<Record<string, DocsAsset>> = {
  [DOCS_PATH]: inline('text/html; charset=utf-8', PAGE),
  [`${DOCS_PATH}/init.js`]: inline(TEXT_JS, INIT),
};

let dist: { dir: string; version: string } | undefined;
/** Resolved on the first request, so an install without the package still serves everything else. */
function distDir(): { dir: string; version: string } {
  if (!dist) {
    const pkg = require.resolve('swagger-ui-dist/package.json');
    dist = { dir: dirname(pkg), version: (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version };
  }
  return dist;
}

/** Throws when swagger-ui-dist is not installed (the server answers 500 with the message). */
export function docsAnswer(pathname: string): DocsAnswer {
  const own = OWN[pathname];
  if (own) return { kind: 'asset', asset: own };
  if (pathname === `${DOCS_PATH}/`) return { kind: 'redirect', location: `../${DOCS_PATH.slice(1)}` };
  const name = pathname.slice(DOCS_PATH.length + 1);
  const contentType = Object.hasOwn(DIST_FILES, name) ? DIST_FILES[name] : undefined;
  if (contentType === undefined) return { kind: 'missing' };
  const { dir, version } = distDir();
  const path = join(dir, name);
  // The files only change with the package's version.
  return { kind: 'asset', asset: { kind: 'file', contentType, path, size: statSync(path).size, etag: `"swagger-ui-dist-${version}"` } };
}

/** The files under /docs/ besides the page: the listing a 404 names. */
export const docsFiles = (): readonly string[] => [...Object.keys(OWN), ...Object.keys(DIST_FILES).map((n) => `${DOCS_PATH}/${n}`)];
