import { useEffect, useRef, useState, type ReactNode } from 'react'
import { ApiError, phases, type StoreList as Page, type StoreRecord } from '../api'
import { age, engineLabel, phaseLabel } from '../format'
import { applyChange, defaultOrder, isOlder, sortStores, type ListFilter, type SortKey, type SortOrder } from '../liveList'
import { Link, useRouter } from '../router'
import { useSession } from '../session'
import { validateNamePrefix, validateTenant } from '../validation'
import { PhaseBadge } from './PhaseBadge'

const pageSize = 20
/** searchDelay is how long typing must pause before the list is asked again. */
export const searchDelay = 300

const sortKeys: SortKey[] = ['name', 'created', 'phase']
const sortLabels: Record<SortKey, string> = { name: 'name', created: 'creation time', phase: 'phase' }

/** sortCaption says how the rows are ordered, and that only the page on screen is. */
export function sortCaption(key: SortKey, order: SortOrder): string {
  const how =
    key === 'name'
      ? order === 'asc' ? 'by name, A to Z' : 'by name, Z to A'
      : key === 'created'
        ? order === 'desc' ? 'newest first' : 'oldest first'
        : order === 'asc' ? 'by phase, in lifecycle order' : 'by phase, in reverse lifecycle order'
  return `Stores ${how}. Sorting orders the stores on this page; pages come newest first.`
}

export function StoreList() {
  const { client, me } = useSession()
  const { search, navigate } = useRouter()
  const admin = me.role === 'admin'
  const status = search.get('status') ?? ''
  const engine = search.get('engine') ?? ''
  const name = search.get('name') ?? ''
  const owner = admin ? (search.get('owner') ?? '') : ''
  const cursor = search.get('cursor') ?? ''
  const sortParam = search.get('sort') as SortKey | null
  const sortKey: SortKey = sortParam && sortKeys.includes(sortParam) ? sortParam : 'created'
  const order: SortOrder = search.get('order') === 'asc' || search.get('order') === 'desc' ? (search.get('order') as SortOrder) : defaultOrder[sortKey]
  const [page, setPage] = useState<Page | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const [live, setLive] = useState(false)
  const [announce, setAnnounce] = useState('')
  const [now, setNow] = useState(() => Date.now())
  const [prev, setPrev] = useState<string[]>([])
  // What is typed in the search boxes; the URL (and the list) follows once typing pauses.
  const [nameInput, setNameInput] = useState(name)
  const [ownerInput, setOwnerInput] = useState(owner)
  const [nameError, setNameError] = useState('')
  const [ownerError, setOwnerError] = useState('')
  const filter = useRef<ListFilter>({ status, engine, name, owner, firstPage: !cursor, limit: pageSize })
  filter.current = { status, engine, name, owner, firstPage: !cursor, limit: pageSize }
  // The latest state of every store the event stream has sent: events that
  // arrive while a page loads are applied to it once it is there.
  const latest = useRef(new Map<string, StoreRecord>())

  useEffect(() => {
    const ac = new AbortController()
    setError(null)
    client
      .listStores({ status, engine, name, owner, cursor, limit: pageSize }, ac.signal)
      .then((p) => setPage([...latest.current.values()].reduce((pg, r) => applyChange(pg, r, filter.current), p)))
      .catch((e: unknown) => {
        if (e instanceof ApiError) setError(e)
      })
    return () => ac.abort()
  }, [client, status, engine, name, owner, cursor])

  useEffect(() => {
    const ac = new AbortController()
    void client.events(undefined, {
      signal: ac.signal,
      onState: setLive,
      onEvent: (ev) => {
        if (ev.type !== 'store') return
        const rec = JSON.parse(ev.data) as StoreRecord
        const known = latest.current.get(rec.name)
        if (!known || !isOlder(rec, known)) latest.current.set(rec.name, rec)
        setPage((p) => {
          if (!p) return p
          const before = p.items.find((r) => r.name === rec.name)
          if (before && before.phase !== rec.phase) setAnnounce(`${rec.name} is now ${phaseLabel(rec.phase)}`)
          return applyChange(p, rec, filter.current)
        })
      },
    })
    return () => ac.abort()
  }, [client])

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 15000)
    return () => clearInterval(t)
  }, [])

  const setQuery = (changes: Record<string, string>) => {
    // From the address bar, not this render: a search that fires after a
    // pause must keep what changed meanwhile.
    const q = new URLSearchParams(window.location.search)
    for (const [k, v] of Object.entries(changes)) {
      if (v) q.set(k, v)
      else q.delete(k)
    }
    const qs = q.toString()
    navigate('/' + (qs ? '?' + qs : ''), { replace: true })
  }
  const setFilter = (changes: Record<string, string>) => {
    setPrev([])
    setQuery({ ...changes, cursor: '' })
  }
  const filtered = status !== '' || engine !== '' || name !== '' || owner !== ''

  // The search boxes ask the API once typing pauses for searchDelay, and
  // only for what it accepts; the URL keeps what was asked.
  const typed = (value: string, current: string, check: (v: string) => string, setErr: (m: string) => void, key: string) => {
    const v = value.trim()
    const err = v === '' ? '' : check(v)
    setErr(err)
    if (err || v === current) return undefined
    const t = setTimeout(() => setFilter({ [key]: v }), searchDelay)
    return () => clearTimeout(t)
  }
  // Only typing starts a search: the effects run when an input changes.
  useEffect(() => typed(nameInput.toLowerCase(), name, validateNamePrefix, setNameError, 'name'), [nameInput])
  useEffect(
    () => (admin ? typed(ownerInput, owner, (v) => validateTenant(v).replace(/^tenant /, ''), setOwnerError, 'owner') : undefined),
    [ownerInput],
  )
  // The URL changed otherwise (back, Clear the filters): the boxes show it.
  useEffect(() => {
    setNameInput((v) => (v.trim().toLowerCase() === name ? v : name))
  }, [name])
  useEffect(() => {
    setOwnerInput((v) => (v.trim() === owner ? v : owner))
  }, [owner])
  const clearFilters = () => {
    setNameInput('')
    setOwnerInput('')
    setFilter({ status: '', engine: '', name: '', owner: '' })
  }
  const sortBy = (key: SortKey) =>
    setQuery({ sort: key, order: key === sortKey ? (order === 'asc' ? 'desc' : 'asc') : defaultOrder[key] })
  const header = (key: SortKey, label: string) => (
    <th scope="col" className="sortable" aria-sort={key === sortKey ? (order === 'asc' ? 'ascending' : 'descending') : undefined}>
      <button type="button" className="sort" onClick={() => sortBy(key)} data-sort={key}>
        {label}
        <span className={key === sortKey ? 'sort-mark' : 'sort-mark off'} aria-hidden="true">
          {key === sortKey ? (order === 'asc' ? ' ▲' : ' ▼') : ' ↕'}
        </span>
        <span className="visually-hidden">, sort by {sortLabels[key]}</span>
      </button>
    </th>
  )
  // Without a chosen order, the API's: newest first.
  const rows = page ? (sortParam ? sortStores(page.items, sortKey, order) : page.items) : []

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Stores</h1>
        <span className={`live ${live ? 'on' : 'off'}`} title="Updates arrive from the API's event stream">
          {live ? 'Live' : 'Connecting…'}
        </span>
        <Link to="/new" className="button primary">
          New store
        </Link>
      </div>
      <p className="visually-hidden" aria-live="polite">
        {announce}
      </p>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter stores" role="search">
        <SearchField
          id="filter-name"
          label="Search by name"
          value={nameInput}
          error={nameError}
          help="name prefix"
          onChange={setNameInput}
        />
        {admin && (
          <SearchField id="filter-owner" label="Owner" value={ownerInput} error={ownerError} help="a tenant" onChange={setOwnerInput} />
        )}
        <div className="field inline">
          <label htmlFor="filter-status">Phase</label>
          <select id="filter-status" value={status} onChange={(e) => setFilter({ status: e.target.value })}>
            <option value="">All but deleted</option>
            {phases.map((p) => (
              <option key={p} value={p}>
                {phaseLabel(p)}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="filter-engine">Engine</label>
          <select id="filter-engine" value={engine} onChange={(e) => setFilter({ engine: e.target.value })}>
            <option value="">All engines</option>
            <option value="woocommerce">WooCommerce</option>
            <option value="medusa">Medusa</option>
          </select>
        </div>
      </form>
      {error && (
        <p className="error banner" role="alert">
          {error.message}
        </p>
      )}
      {!page && !error && <p role="status">Loading stores…</p>}
      {page && page.items.length === 0 && !cursor && (
        <div className="empty card">
          {filtered ? (
            <>
              <h2>No stores match these filters</h2>
              <button type="button" onClick={clearFilters}>
                Clear the filters
              </button>
            </>
          ) : (
            <>
              <h2>No stores yet</h2>
              <p>Create a WooCommerce or Medusa store; it is ready in a few minutes.</p>
              <Link to="/new" className="button primary">
                Create your first store
              </Link>
            </>
          )}
        </div>
      )}
      {page && page.items.length > 0 && me.storeUrlNotice && (
        <p className="notice url-notice" data-testid="list-url-notice">
          {me.storeUrlNotice}
        </p>
      )}
      {page && page.items.length > 0 && (
        <table className="stores">
          <caption className="sort-caption" data-testid="sort-caption">
            {sortCaption(sortKey, order)}
          </caption>
          <thead>
            <tr>
              {header('name', 'Name')}
              {admin && <th scope="col">Owner</th>}
              <th scope="col">Engine</th>
              {header('phase', 'Phase')}
              {header('created', 'Age')}
              <th scope="col">URL</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.name} data-store={r.name}>
                <th scope="row" data-label="Name">
                  <Link to={`/stores/${encodeURIComponent(r.name)}`}>{r.name}</Link>
                </th>
                {admin && (
                  <td data-label="Owner" data-testid="owner">
                    {r.owner ?? ''}
                  </td>
                )}
                <td data-label="Engine">{engineLabel(r.engine)}</td>
                <td data-label="Phase">
                  <PhaseBadge phase={r.phase} />
                </td>
                <td data-label="Age">
                  <time dateTime={r.createdAt} title={new Date(r.createdAt).toLocaleString()}>
                    {age(r.createdAt, now)}
                  </time>
                </td>
                <td data-label="URL">
                  {r.url && me.storeUrlNotice ? (
                    <span title={me.storeUrlNotice}>{r.url.replace(/^https?:\/\//, '')}</span>
                  ) : r.url ? (
                    <a href={r.url} target="_blank" rel="noreferrer">
                      {r.url.replace(/^https?:\/\//, '')}
                    </a>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page && (cursor || page.nextCursor) && (
        <nav className="pager" aria-label="Pages">
          <button
            type="button"
            disabled={!cursor}
            onClick={() => {
              const p = prev.slice()
              const back = p.pop() ?? ''
              setPrev(p)
              setQuery({ cursor: back })
            }}
          >
            Previous page
          </button>
          <button
            type="button"
            disabled={!page.nextCursor}
            onClick={() => {
              setPrev([...prev, cursor])
              setQuery({ cursor: page.nextCursor ?? '' })
            }}
          >
            Next page
          </button>
        </nav>
      )}
    </>
  )
}

/** SearchField is a labelled search box with its help and its error. */
function SearchField(props: { id: string; label: string; value: string; error: string; help: ReactNode; onChange: (v: string) => void }) {
  const { id } = props
  return (
    <div className="field inline search">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="search"
        value={props.value}
        autoComplete="off"
        spellCheck={false}
        autoCapitalize="none"
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-error` : `${id}-help`}
        placeholder={typeof props.help === 'string' ? props.help : undefined}
      />
      <span id={`${id}-help`} className="visually-hidden">
        {props.help}
      </span>
      {props.error && (
        <p id={`${id}-error`} className="error" role="alert">
          {props.label} {props.error}
        </p>
      )}
    </div>
  )
}
