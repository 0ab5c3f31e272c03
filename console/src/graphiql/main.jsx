// GraphiQL, served by orderwatch itself: queries over HTTP and subscriptions over graphql-transport-ws, both with the
// token from the headers pane; the schema is fetched again whenever the headers change.

import React, { useCallback, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import { getOperationAST, parse } from 'graphql';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './page.css';

const http = createGraphiQLFetcher({ url: '/graphql' });
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
const sockets = new Map();

/// One websocket per Authorization value: the token goes in `connection_init`, where the server reads it.
function socketFor(authorization) {
  const key = authorization ?? '';
  if (!sockets.has(key)) {
    for (const old of sockets.values()) old.dispose();
    sockets.clear();
    sockets.set(key, createClient({ url: wsUrl, lazy: true, connectionParams: authorization ? { Authorization: authorization } : {} }));
  }
  return sockets.get(key);
}

function isSubscription(params, opts) {
  try {
    const doc = opts?.documentAST ?? parse(params.query);
    return getOperationAST(doc, params.operationName)?.operation === 'subscription';
  } catch {
    return false;
  }
}

function header(headers, name) {
  const found = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === name);
  return found?.[1];
}

const explorer = explorerPlugin();

/// GraphiQL keeps its tabs, history and headers here: in memory for this page only, so no token and no query about a
/// person outlives it in the browser's storage.
const memory = (() => {
  const items = new Map();
  return {
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => items.set(k, String(v)),
    removeItem: (k) => items.delete(k),
    clear: () => items.clear(),
    get length() { return items.size; },
  };
})();
const signedIn = sessionStorage.getItem('orderwatch.token');
const initialHeaders = JSON.stringify({ Authorization: `Bearer ${signedIn ?? '<paste a token: orderwatch token --role POLICE --agency MET --sub you>'}` }, null, 2);

function parsed(headers) {
  try {
    const value = JSON.parse(headers);
    return value && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

function App() {
  const [headers, setHeaders] = useState(initialHeaders);
  const timer = useRef(null);
  // A new fetcher for new headers: GraphiQL fetches the schema again with them. GraphiQL's first introspection runs
  // before its headers pane exists and sends no headers, so the pane's last value stands in for them.
  const fetcher = useMemo(() => (params, opts) => {
    const sent = opts?.headers ?? parsed(headers);
    return isSubscription(params, opts)
      ? socketFor(header(sent, 'authorization')).iterate(params)
      : http(params, { ...opts, headers: sent });
  }, [headers]);
  const onEditHeaders = useCallback((value) => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setHeaders(value), 400);
  }, []);
  return <GraphiQL fetcher={fetcher} plugins={[explorer]} defaultHeaders={initialHeaders} onEditHeaders={onEditHeaders} shouldPersistHeaders={false} storage={memory} />;
}

/// What GraphiQL leaves out for assistive technology, added as its parts appear: names for its editors and its
/// unlabelled select, keyboard access to the editors' scrolling regions, and tabs whose close buttons are not inside
/// the tab (the tab role moves from the list item to its button).
function accessible(root) {
  const editorName = (textarea) => {
    if (textarea.closest('.graphiql-query-editor')) return 'Query editor';
    if (textarea.closest('.graphiql-response')) return 'Response';
    const tools = [...root.querySelectorAll('.graphiql-editor-tool .graphiql-editor')];
    const i = tools.findIndex((e) => e.contains(textarea));
    return ['Variables editor', 'Headers editor'][i] ?? 'Editor';
  };
  const fix = () => {
    for (const t of root.querySelectorAll('.CodeMirror textarea:not([aria-label])')) t.setAttribute('aria-label', editorName(t));
    for (const sc of root.querySelectorAll('.CodeMirror-scroll[tabindex="-1"]')) sc.setAttribute('tabindex', '0');
    for (const sel of document.querySelectorAll('select:not([aria-label])')) {
      if (!sel.labels?.length) sel.setAttribute('aria-label', 'Kind of operation to add');
    }
    for (const li of root.querySelectorAll('li.graphiql-tab[role="tab"]')) {
      const selected = li.getAttribute('aria-selected');
      li.setAttribute('role', 'presentation');
      li.removeAttribute('aria-selected');
      const b = li.querySelector('.graphiql-tab-button');
      b?.setAttribute('role', 'tab');
      if (selected !== null) b?.setAttribute('aria-selected', selected);
    }
  };
  new MutationObserver(fix).observe(root, { childList: true, subtree: true });
  fix();
}

const root = document.getElementById('graphiql');
createRoot(root).render(<App />);
accessible(document.body);
