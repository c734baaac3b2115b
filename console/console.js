// The dbops web console: a few read-only pages over the REST API of `dbops serve`.
// No framework, no external asset; every value is put in the page as text (never as HTML).
const main = document.getElementById('main')

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
    else if (value !== undefined && value !== null) node.setAttribute(key, value)
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : String(child ?? ''))
  return node
}

function text(value) {
  if (value === null || value === undefined) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

function statusBadge(status) {
  return el('span', { class: `status status-${status}`, 'data-status': status }, status)
}

function grid(headers, rows) {
  return el(
    'table',
    {},
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((h) => el('th', {}, h)),
      ),
    ),
    el(
      'tbody',
      {},
      rows.map((r) =>
        el(
          'tr',
          {},
          r.map((c) => el('td', {}, c)),
        ),
      ),
    ),
  )
}

async function api(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } })
  const body = await res.json()
  if (!res.ok && body.error) {
    const err = new Error(body.error.message)
    err.hint = body.error.hint
    throw err
  }
  return body
}

function show(...nodes) {
  main.replaceChildren(...nodes)
}

function failure(err) {
  show(el('p', { class: 'error', role: 'alert' }, err.message), err.hint ? el('p', { class: 'muted' }, err.hint) : '')
}

async function healthPage() {
  const res = await fetch('/health')
  const report = await res.json()
  show(
    el('h1', {}, 'Health ', statusBadge(report.status)),
    el('p', { class: 'muted' }, `checked at ${report.checked_at}`),
    grid(
      ['component', 'status', 'latency ms', 'details'],
      report.components.map((c) => [c.name, statusBadge(c.status), text(c.latency_ms), el('pre', {}, JSON.stringify(c.details, null, 1))]),
    ),
  )
}

async function migrationsPage() {
  const status = await api('/api/v1/db/migrations/status')
  const s = status.summary
  show(
    el('h1', {}, 'Migrations'),
    el(
      'p',
      {},
      `head ${status.head ?? 'none'} · applied ${s.applied} · pending ${s.pending} · dirty ${s.dirty} · changed ${s.changed} · missing ${s.missing}`,
    ),
    status.problems.length
      ? el(
          'ul',
          { class: 'error' },
          status.problems.map((p) => el('li', {}, p)),
        )
      : '',
    grid(
      ['version', 'name', 'status', 'applied at', 'ms'],
      status.migrations.map((m) => [m.version, m.name, m.status, text(m.applied_at), text(m.duration_ms)]),
    ),
  )
}

async function tablesPage() {
  const report = await api('/api/v1/db/tables')
  show(
    el('h1', {}, 'Tables'),
    grid(
      ['table', 'rows', 'size'],
      report.tables.map((t) => {
        const name = t.schema ? `${t.schema}.${t.name}` : t.name
        return [
          el('a', { href: `#/tables/${encodeURIComponent(name)}` }, name),
          `${text(t.rows)}${t.rows_exact ? '' : ' (estimate)'}`,
          text(t.size_bytes),
        ]
      }),
    ),
  )
}

async function tablePage(name, params) {
  const query = new URLSearchParams(params)
  if (!query.has('page')) query.set('page', '1')
  const [schema, rows] = await Promise.all([
    api(`/api/v1/db/tables/${encodeURIComponent(name)}/schema`),
    api(`/api/v1/db/tables/${encodeURIComponent(name)}?${query}`),
  ])
  const go = (changes) => {
    const next = new URLSearchParams(query)
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) next.delete(k)
      else next.set(k, v)
    }
    location.hash = `#/tables/${encodeURIComponent(name)}?${next}`
  }
  const sortBy = query.get('sort_by')
  const desc = query.get('sort_desc') === 'true'
  const header = rows.columns.map((c) =>
    el(
      'button',
      {
        type: 'button',
        'data-column': c,
        onclick: () => go({ sort_by: c, sort_desc: sortBy === c && !desc ? 'true' : 'false', page: '1' }),
      },
      c + (sortBy === c ? (desc ? ' ▼' : ' ▲') : ''),
    ),
  )
  const columnSelect = el(
    'select',
    { name: 'filter_column', 'aria-label': 'filter column' },
    rows.columns.map((c) => el('option', { value: c }, c)),
  )
  if (query.get('filter_column')) columnSelect.value = query.get('filter_column')
  const valueInput = el('input', { name: 'filter_value', 'aria-label': 'filter value', value: query.get('filter_value') ?? '' })
  const form = el(
    'form',
    {
      onsubmit: (event) => {
        event.preventDefault()
        if (valueInput.value === '') go({ filter_column: undefined, filter_value: undefined, page: '1' })
        else go({ filter_column: columnSelect.value, filter_value: valueInput.value, page: '1' })
      },
    },
    'Filter: ',
    columnSelect,
    ' = ',
    valueInput,
    el('button', { type: 'submit' }, 'Apply'),
  )
  const page = rows.page
  show(
    el('h1', {}, `Table ${rows.table}`),
    el('h2', {}, 'Columns'),
    grid(
      ['column', 'type', 'nullable', 'default'],
      schema.columns.map((c) => [
        c.name + (schema.primary_key.includes(c.name) ? ' (pk)' : ''),
        c.type,
        c.nullable ? 'yes' : 'no',
        text(c.default),
      ]),
    ),
    el('h2', {}, 'Rows'),
    form,
    el(
      'table',
      { id: 'rows' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          header.map((h) => el('th', {}, h)),
        ),
      ),
      el(
        'tbody',
        {},
        rows.rows.map((r) =>
          el(
            'tr',
            {},
            rows.columns.map((c) => el('td', {}, text(r[c]))),
          ),
        ),
      ),
    ),
    el(
      'div',
      { class: 'pager' },
      el(
        'button',
        { type: 'button', id: 'prev', disabled: page > 1 ? undefined : '', onclick: () => go({ page: String(page - 1) }) },
        '‹ Previous',
      ),
      el('span', { id: 'page' }, `page ${page}`),
      el(
        'button',
        { type: 'button', id: 'next', disabled: rows.has_more ? undefined : '', onclick: () => go({ page: String(page + 1) }) },
        'Next ›',
      ),
      rows.has_more ? '' : el('span', { class: 'muted', id: 'end' }, 'last page'),
    ),
  )
}

async function backupsPage() {
  const report = await api('/api/v1/db/backups')
  show(
    el('h1', {}, 'Backups'),
    el('p', { class: 'muted' }, report.dir),
    report.backups.length === 0
      ? el('p', {}, 'No backups.')
      : grid(
          ['file', 'created', 'size', 'migration head', 'verified', 'status'],
          report.backups.map((b) => [b.file, b.created_at, text(b.size_bytes), text(b.migration_head), b.verification_level, b.status]),
        ),
  )
}

async function connectionsPage() {
  const report = await api('/api/v1/db/pool')
  const s = report.server
  show(
    el('h1', {}, 'Connections'),
    el('p', {}, `used ${text(s.used)} of ${text(s.max_connections)} · free ${text(s.free)}`),
    report.client
      ? el(
          'p',
          {},
          `this server's pool: ${report.client.total} open, ${report.client.idle} idle, ${report.client.waiting} waiting (max ${report.client.max})`,
        )
      : '',
    el('h2', {}, 'By state'),
    grid(
      ['state', 'count'],
      s.by_state.map((r) => [r.state, text(r.count)]),
    ),
    el('h2', {}, 'By application'),
    grid(
      ['application', 'user', 'state', 'count'],
      s.by_application.map((r) => [r.application_name, r.user, r.state, text(r.count)]),
    ),
    el('h2', {}, 'Blocked queries'),
    s.blocked.length === 0
      ? el('p', {}, 'None.')
      : grid(
          ['pid', 'waiting s', 'blocked by', 'query', 'to end the blockers'],
          s.blocked.map((b) => [text(b.pid), text(b.waiting_seconds), text(b.blocked_by), text(b.query), text(b.terminate_blockers)]),
        ),
  )
}

async function route() {
  const [path, search = ''] = location.hash.replace(/^#/, '').split('?')
  const parts = path.split('/').filter(Boolean)
  for (const link of document.querySelectorAll('nav a'))
    link.classList.toggle('active', link.getAttribute('href') === `#/${parts[0] ?? 'health'}`)
  try {
    if (parts[0] === 'migrations') await migrationsPage()
    else if (parts[0] === 'tables' && parts[1]) await tablePage(decodeURIComponent(parts[1]), new URLSearchParams(search))
    else if (parts[0] === 'tables') await tablesPage()
    else if (parts[0] === 'backups') await backupsPage()
    else if (parts[0] === 'connections') await connectionsPage()
    else await healthPage()
  } catch (err) {
    failure(err)
  }
  main.setAttribute('data-ready', location.hash)
}

window.addEventListener('hashchange', route)
route()
