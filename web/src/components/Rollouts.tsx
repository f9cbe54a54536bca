import { useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, type ChartVersions, type RolloutState, type RolloutSummary } from '../api'
import { Link, useRouter } from '../router'
import { useSession } from '../session'

const ended = (s: RolloutState['status']) => s === 'completed' || s === 'failed' || s === 'aborted'

interface RolloutForm {
  chartVersion: string
  canary: string
  batchSize: string
  maxFailures: string
  engine: string
  tenant: string
}

type FormErrors = Partial<Record<keyof RolloutForm, string>>

/** validateRollout checks the form with the API's rules and messages. */
export function validateRollout(f: RolloutForm): FormErrors {
  const errs: FormErrors = {}
  const whole = (v: string) => /^\d+$/.test(v)
  if (f.chartVersion === '') errs.chartVersion = 'is not a chart version of this platform (see GET /api/chart-versions)'
  if (!whole(f.canary) || +f.canary < 1 || +f.canary > 100) errs.canary = 'must be from 1 to 100'
  if (!whole(f.batchSize) || +f.batchSize < 1 || +f.batchSize > 100) errs.batchSize = 'must be from 1 to 100'
  if (!whole(f.maxFailures)) errs.maxFailures = 'must be 0 or more'
  return errs
}

const labels: Record<keyof RolloutForm, string> = {
  chartVersion: 'Chart version',
  canary: 'Canary stores',
  batchSize: 'Batch size',
  maxFailures: 'Max failures',
  engine: 'Engine',
  tenant: 'Tenant',
}

/** Rollouts is the admins' page of fleet rollouts: start one, and the list. */
export function Rollouts() {
  const { client, me } = useSession()
  const { navigate } = useRouter()
  const [versions, setVersions] = useState<ChartVersions | null>(null)
  const [items, setItems] = useState<RolloutSummary[] | null>(null)
  const [form, setForm] = useState<RolloutForm>({ chartVersion: '', canary: '1', batchSize: '10', maxFailures: '0', engine: '', tenant: '' })
  const [errors, setErrors] = useState<FormErrors>({})
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    if (me.role !== 'admin') return
    const ac = new AbortController()
    client.chartVersions(ac.signal).then(setVersions, () => {})
    client.rollouts(ac.signal).then((r) => setItems(r.items), () => {})
    return () => ac.abort()
  }, [client, me.role])

  if (me.role !== 'admin') {
    return (
      <>
        <h1 tabIndex={-1}>Rollouts</h1>
        <p className="notice">Only admins run fleet rollouts.</p>
      </>
    )
  }

  const set = (k: keyof RolloutForm, v: string) => {
    setForm((f) => ({ ...f, [k]: v }))
    setErrors((e) => ({ ...e, [k]: undefined }))
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setFormError('')
    const errs = validateRollout(form)
    setErrors(errs)
    if (Object.keys(errs).length) return
    setBusy(true)
    try {
      const selector: Record<string, string> = {}
      if (form.engine) selector.engine = form.engine
      if (form.tenant) selector.tenant = form.tenant
      const r = await client.startRollout({
        chartVersion: form.chartVersion,
        canary: +form.canary,
        batchSize: +form.batchSize,
        maxFailures: +form.maxFailures,
        selector,
      })
      navigate(`/rollouts/${encodeURIComponent(r.id)}`)
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      const fe: FormErrors = {}
      for (const [f, msg] of Object.entries(err.fields)) {
        const k = (f === 'selector.engine' ? 'engine' : f === 'selector.tenant' ? 'tenant' : f) as keyof RolloutForm
        if (k in labels) fe[k] = msg
      }
      setErrors(fe)
      if (!Object.keys(fe).length) setFormError(err.message)
    } finally {
      setBusy(false)
    }
  }
  const field = (k: keyof RolloutForm, input: ReactNode) => (
    <div className="field" key={k}>
      <label htmlFor={`rollout-${k}`}>{labels[k]}</label>
      {input}
      {errors[k] && (
        <p id={`rollout-${k}-error`} className="error" data-field-error={k}>
          {labels[k]} {errors[k]}
        </p>
      )}
    </div>
  )
  const common = (k: keyof RolloutForm) => ({
    id: `rollout-${k}`,
    value: form[k],
    'aria-invalid': errors[k] ? true : undefined,
    'aria-describedby': errors[k] ? `rollout-${k}-error` : undefined,
  })

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Rollouts</h1>
      </div>
      <form className="card" onSubmit={submit} noValidate aria-labelledby="new-rollout">
        <h2 id="new-rollout">New rollout</h2>
        {formError && (
          <p className="error banner" role="alert">
            {formError}
          </p>
        )}
        {field(
          'chartVersion',
          <select {...common('chartVersion')} onChange={(e) => set('chartVersion', e.target.value)}>
            <option value="">Choose a version</option>
            {versions?.items.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version}
                {v.current ? ' (chart directory)' : ''}
                {v.version === versions.default ? ' (new stores)' : ''}
              </option>
            ))}
          </select>,
        )}
        {(['canary', 'batchSize', 'maxFailures'] as const).map((k) =>
          field(k, <input {...common(k)} inputMode="numeric" onChange={(e) => set(k, e.target.value)} />),
        )}
        {field(
          'engine',
          <select {...common('engine')} onChange={(e) => set('engine', e.target.value)}>
            <option value="">Every engine</option>
            <option value="woocommerce">WooCommerce</option>
            <option value="medusa">Medusa</option>
          </select>,
        )}
        {field('tenant', <input {...common('tenant')} placeholder="every tenant" onChange={(e) => set('tenant', e.target.value)} />)}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Starting…' : 'Start rollout'}
          </button>
        </div>
      </form>
      <section className="card" aria-labelledby="rollouts-title">
        <h2 id="rollouts-title">All rollouts</h2>
        {items === null && <p role="status">Loading…</p>}
        {items?.length === 0 && <p className="muted">No rollout yet.</p>}
        {items && items.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Rollout</th>
                  <th scope="col">Version</th>
                  <th scope="col">Workflow</th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr key={r.id} data-rollout={r.id}>
                    <td>
                      <Link to={`/rollouts/${encodeURIComponent(r.id)}`}>{r.id}</Link>
                    </td>
                    <td>{r.chartVersion}</td>
                    <td>{r.status}</td>
                    <td>{new Date(r.startedAt).toLocaleString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  )
}

/** RolloutPage shows one rollout live, with Pause, Resume and Abort. */
export function RolloutPage({ id }: { id: string }) {
  const { client } = useSession()
  const [st, setSt] = useState<RolloutState | null>(null)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    const ac = new AbortController()
    // The event stream may have delivered a newer state than this answer.
    client.rollout(id, ac.signal).then((r) => setSt((cur) => cur ?? r), (e: unknown) => {
      if (e instanceof ApiError) setError(e.status === 404 ? `There is no rollout ${id}.` : e.message)
    })
    void client.rolloutEvents(id, {
      signal: ac.signal,
      onEvent: (ev) => {
        if (ev.type !== 'rollout') return
        const next = JSON.parse(ev.data) as RolloutState
        setSt(next)
        if (ended(next.status)) ac.abort()
      },
    })
    return () => ac.abort()
  }, [client, id])

  const send = async (signal: 'pause' | 'resume' | 'abort') => {
    setBusy(true)
    setError('')
    try {
      await client.signalRollout(id, signal)
    } catch (e) {
      if (e instanceof ApiError) setError(e.message)
      else throw e
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Rollout {id}</h1>
        {st && (
          <span className="badge" data-rollout-status={st.status}>
            {st.status}
          </span>
        )}
      </div>
      {error && (
        <p className="error banner" role="alert">
          {error}
        </p>
      )}
      {st && (
        <section className="card summary" aria-label="Rollout">
          <p className="visually-hidden" aria-live="polite">
            Rollout {st.status}, batch {st.batch}
          </p>
          <dl>
            <dt>Version</dt>
            <dd>{st.chartVersion}</dd>
            <dt>Canary, batch size, max failures</dt>
            <dd>
              {st.canary}, {st.batchSize}, {st.maxFailures}
            </dd>
            <dt>Batch</dt>
            <dd data-testid="batch">{st.batch}</dd>
            <dt>Stores</dt>
            <dd data-testid="counts">
              {Object.entries(st.counts)
                .map(([k, v]) => `${v} ${k}`)
                .join(', ') || 'none'}
            </dd>
            {st.reason && (
              <>
                <dt>Reason</dt>
                <dd>{st.reason}</dd>
              </>
            )}
          </dl>
          {!ended(st.status) && (
            <div className="actions">
              {st.status === 'running' && (
                <button type="button" disabled={busy} onClick={() => void send('pause')}>
                  Pause
                </button>
              )}
              {st.status === 'paused' && (
                <button type="button" className="primary" disabled={busy} onClick={() => void send('resume')}>
                  Resume
                </button>
              )}
              <button type="button" className="danger" disabled={busy} onClick={() => void send('abort')}>
                Abort
              </button>
            </div>
          )}
        </section>
      )}
      {st && (
        <section className="card" aria-labelledby="rollout-stores">
          <h2 id="rollout-stores">Stores</h2>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Store</th>
                  <th scope="col">State</th>
                  <th scope="col">Batch</th>
                  <th scope="col">Revision</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {st.stores.map((s) => (
                  <tr key={s.name} data-store={s.name} data-state={s.state}>
                    <td>
                      <Link to={`/stores/${encodeURIComponent(s.name)}`}>{s.name}</Link>
                    </td>
                    <td>{s.state}</td>
                    <td>{s.batch ?? ''}</td>
                    <td>{s.revision ?? ''}</td>
                    <td>{s.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      <Link to="/rollouts">All rollouts</Link>
    </>
  )
}
