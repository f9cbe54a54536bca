import { useEffect, useState, type FormEvent, type ReactNode } from 'react'
import {
  ApiError,
  workflowLink,
  type ApiClient,
  type ChartVersions,
  type RolloutState,
  type RolloutSummary,
  type StoreRecord,
} from '../api'
import { engineLabel, phaseLabel } from '../format'
import { Link, useRouter } from '../router'
import { useSession } from '../session'
import { MsgTenant, validateTenant } from '../validation'
import { ConfirmDialog } from './ConfirmDialog'
import { ScrollArea } from './ScrollArea'

const ended = (s: RolloutState['status']) => s === 'completed' || s === 'failed' || s === 'aborted'

/**
 * rolloutState reads a rollout's state from the API: before the rollout
 * has listed its stores, its stores and counts may be null.
 */
export function rolloutState(r: RolloutState): RolloutState {
  return { ...r, stores: r.stores ?? [], counts: r.counts ?? {} }
}

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
  if (f.tenant !== '' && validateTenant(f.tenant)) errs.tenant = MsgTenant.replace(/^tenant /, '')
  return errs
}

/** Preview is what a rollout would upgrade, as GET /api/stores lists it now. */
export interface Preview {
  /** targets are the selected stores not on the version yet: the ones the rollout upgrades. */
  targets: StoreRecord[]
  /** onVersion counts the selected stores already on the version: left alone. */
  onVersion: number
  /** truncated: there were more stores than the preview reads. */
  truncated: boolean
}

/**
 * rolloutTargets splits the stores a rollout selects as RolloutStores
 * does (activities.ListRolloutTargets): a store not on the version is
 * upgraded (one with no recorded version too), one on it is left alone.
 */
export function rolloutTargets(stores: StoreRecord[], chartVersion: string): Omit<Preview, 'truncated'> {
  const live = stores.filter((r) => r.phase !== 'deleted')
  const targets = live.filter((r) => r.chartVersion !== chartVersion)
  return { targets, onVersion: live.length - targets.length }
}

// The preview reads at most this many pages of 100 stores.
const previewPages = 20

/**
 * previewRollout lists the stores of the rollout's selector (engine and
 * tenant, every phase but deleted) with GET /api/stores, page after page.
 */
export async function previewRollout(client: ApiClient, chartVersion: string, engine: string, tenant: string, signal?: AbortSignal): Promise<Preview> {
  const all: StoreRecord[] = []
  let cursor = ''
  for (let page = 0; page < previewPages; page++) {
    const res = await client.listStores({ engine, owner: tenant, cursor, limit: 100 }, signal)
    all.push(...res.items)
    if (!res.nextCursor) return { ...rolloutTargets(all, chartVersion), truncated: false }
    cursor = res.nextCursor
  }
  return { ...rolloutTargets(all, chartVersion), truncated: true }
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
  const [versionsError, setVersionsError] = useState('')
  const [listError, setListError] = useState('')
  // The stores the rollout would touch, shown for confirmation before it starts.
  const [preview, setPreview] = useState<Preview | null>(null)

  useEffect(() => {
    if (me.role !== 'admin') return
    const ac = new AbortController()
    const failed = (set: (m: string) => void) => (e: unknown) => {
      if (e instanceof ApiError) set(e.message)
    }
    client.chartVersions(ac.signal).then(setVersions, failed(setVersionsError))
    client.rollouts(ac.signal).then((r) => setItems(r.items), failed(setListError))
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
    setPreview(null)
  }
  // Submitting the form lists the stores the rollout would touch; starting
  // it is the preview's confirmation.
  const review = async (e: FormEvent) => {
    e.preventDefault()
    setFormError('')
    setPreview(null)
    const errs = validateRollout(form)
    setErrors(errs)
    if (Object.keys(errs).length) return
    setBusy(true)
    try {
      setPreview(await previewRollout(client, form.chartVersion, form.engine, form.tenant))
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      setFormError(`The stores of this rollout could not be listed: ${err.message}`)
    } finally {
      setBusy(false)
    }
  }
  const start = async () => {
    setFormError('')
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
      setPreview(null)
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
      <form className="card" onSubmit={review} noValidate aria-labelledby="new-rollout">
        <h2 id="new-rollout">New rollout</h2>
        {formError && (
          <p className="error banner" role="alert">
            {formError}
          </p>
        )}
        {versionsError && (
          <p className="error" role="alert">
            The chart versions could not be loaded: {versionsError}
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
          <button type="submit" className="primary" disabled={busy || preview !== null}>
            {busy && !preview ? 'Listing the stores…' : 'Review the stores'}
          </button>
        </div>
        {preview && (
          <ConfirmDialog
            title={`Start the rollout to ${form.chartVersion}?`}
            confirmText={preview.targets.length ? `Start rollout on ${preview.targets.length} ${preview.targets.length === 1 ? 'store' : 'stores'}` : 'Start rollout'}
            busy={busy}
            onConfirm={() => void start()}
            onCancel={() => setPreview(null)}
          >
            <RolloutPreview preview={preview} form={form} />
          </ConfirmDialog>
        )}
      </form>
      <section className="card" aria-labelledby="rollouts-title">
        <h2 id="rollouts-title">All rollouts</h2>
        {listError && (
          <p className="error" role="alert">
            The rollouts could not be loaded: {listError}
          </p>
        )}
        {items === null && !listError && <p role="status">Loading…</p>}
        {items?.length === 0 && <p className="muted">No rollout yet.</p>}
        {items && items.length > 0 && (
          <ScrollArea label="Rollouts">
            <table>
              <thead>
                <tr>
                  <th scope="col">Rollout</th>
                  <th scope="col">Version</th>
                  <th scope="col">Status</th>
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
                    <td data-testid="rollout-status">{r.status}</td>
                    <td data-testid="rollout-workflow">
                      {workflowLink(me, r.workflowId) ? (
                        <a href={workflowLink(me, r.workflowId)} target="_blank" rel="noreferrer">
                          <code>{r.workflowId}</code>
                        </a>
                      ) : (
                        <code>{r.workflowId}</code>
                      )}
                    </td>
                    <td>{new Date(r.startedAt).toLocaleString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
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
  const [aborting, setAborting] = useState(false)

  useEffect(() => {
    const ac = new AbortController()
    // The event stream may have delivered a newer state than this answer.
    client.rollout(id, ac.signal).then((r) => setSt((cur) => cur ?? rolloutState(r)), (e: unknown) => {
      if (e instanceof ApiError) setError(e.status === 404 ? `There is no rollout ${id}.` : e.message)
    })
    void client.rolloutEvents(id, {
      signal: ac.signal,
      onEvent: (ev) => {
        if (ev.type !== 'rollout') return
        const next = rolloutState(JSON.parse(ev.data) as RolloutState)
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
      if (signal === 'abort') setAborting(false)
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
          <span className={`badge rollout-${st.status}`} data-rollout-status={st.status}>
            {st.status}
          </span>
        )}
      </div>
      {error && (
        <p className="error banner" role="alert">
          {error}
        </p>
      )}
      {!st && !error && <p role="status">Loading the rollout…</p>}
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
              <button type="button" className="danger" disabled={busy || aborting} onClick={() => setAborting(true)}>
                Abort
              </button>
            </div>
          )}
          {aborting && !ended(st.status) && (
            <ConfirmDialog
              title={`Abort rollout ${id}?`}
              confirmText="Abort the rollout"
              danger
              busy={busy}
              onConfirm={() => void send('abort')}
              onCancel={() => setAborting(false)}
            >
              <p>
                No further store is upgraded. The stores upgraded so far stay on {st.chartVersion}; a store being
                upgraded now finishes its upgrade.
              </p>
            </ConfirmDialog>
          )}
        </section>
      )}
      {st && (
        <section className="card" aria-labelledby="rollout-stores">
          <h2 id="rollout-stores">Stores</h2>
          <ScrollArea label="Stores of the rollout">
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
          </ScrollArea>
        </section>
      )}
      <Link to="/rollouts">All rollouts</Link>
    </>
  )
}

/** RolloutPreview lists the stores a rollout would upgrade, before it starts. */
function RolloutPreview({ preview, form }: { preview: Preview; form: RolloutForm }) {
  const scope = [form.engine ? engineLabel(form.engine) : 'every engine', form.tenant ? `tenant ${form.tenant}` : 'every tenant'].join(', ')
  return (
    <div className="preview" data-testid="rollout-preview">
      <p>
        {preview.targets.length === 0
          ? `No store of ${scope} needs upgrading: new stores get ${form.chartVersion}.`
          : `${preview.targets.length} ${preview.targets.length === 1 ? 'store' : 'stores'} of ${scope} would be upgraded to ${form.chartVersion}, the canary first${preview.onVersion ? `; ${preview.onVersion} already on it ${preview.onVersion === 1 ? 'is' : 'are'} left alone` : ''}.`}
      </p>
      {preview.targets.length > 0 && (
        <ScrollArea label="Stores the rollout would upgrade">
          <table>
            <caption className="muted">
              The stores as <code>GET /api/stores</code> lists them now: the rollout lists them again when it starts, so a
              store created or deleted meanwhile counts then.
            </caption>
            <thead>
              <tr>
                <th scope="col">Store</th>
                <th scope="col">Owner</th>
                <th scope="col">Engine</th>
                <th scope="col">Phase</th>
                <th scope="col">Chart version now</th>
              </tr>
            </thead>
            <tbody>
              {preview.targets.map((r) => (
                <tr key={r.name} data-preview-store={r.name}>
                  <td>
                    <Link to={`/stores/${encodeURIComponent(r.name)}`}>{r.name}</Link>
                  </td>
                  <td>{r.owner ?? ''}</td>
                  <td>{engineLabel(r.engine)}</td>
                  <td>{phaseLabel(r.phase)}</td>
                  <td>{r.chartVersion || 'not recorded'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      )}
      {preview.truncated && <p className="muted">Only the first {previewPages * 100} stores were read.</p>}
    </div>
  )
}
