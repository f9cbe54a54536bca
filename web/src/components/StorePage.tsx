import { useEffect, useState } from 'react'
import { ApiError, workflowLink, type Credentials, type Progress, type StoreRecord, type StoreResponse } from '../api'
import { between, engineLabel, phaseLabel, when } from '../format'
import { isOlder } from '../liveList'
import { Link, useRouter } from '../router'
import { useSession } from '../session'
import { ConfirmByName } from './ConfirmByName'
import { ConfirmDialog } from './ConfirmDialog'
import { CopyButton } from './CopyButton'
import { KubeEvents } from './KubeEvents'
import { PhaseBadge } from './PhaseBadge'
import { ProgressView } from './ProgressView'
import { StoreHistory } from './StoreHistory'
import { StoreSettings } from './StoreSettings'

/**
 * urlNotice says why the store's URL serves nothing now, or '' when it
 * serves the store: the platform reports it unavailable (urlAvailable is
 * false while the store is suspended), or the store's phase has no running
 * store behind the URL. stackNotice is the API's storeUrlNotice (a stack
 * whose nodes serve nothing, such as the local stack's simulated ones),
 * shown for a store that would otherwise serve.
 */
export function urlNotice(rec: StoreRecord, stackNotice = ''): string {
  if (!rec.url) return ''
  switch (rec.phase) {
    case 'suspended':
      return 'This URL serves nothing while the store is suspended: resume it to serve the store again.'
    case 'deleting':
    case 'deletion_stuck':
      return 'This URL serves nothing: the store is being deleted.'
    case 'deleted':
      return 'This URL serves nothing: the store was deleted.'
    case 'failed':
      return 'This URL serves nothing: the store failed. Retry it, or delete it.'
    case 'requested':
    case 'provisioning':
      return 'This URL serves the store once it is ready.'
  }
  if (rec.urlAvailable === false) return 'This URL serves nothing at the moment: the platform reports the store as not reachable.'
  return stackNotice
}

/** lastOperationText says how the store's last operation ended. */
export function lastOperationText(rec: StoreRecord): string {
  const lo = rec.lastOperation
  if (!lo) return ''
  if (!lo.failed) return `${lo.kind} done${lo.revision ? ` (revision ${lo.revision})` : ''}`
  let s = `${lo.kind} failed: ${lo.reason ?? 'unknown reason'}`
  if (lo.rolledBackTo) s += `; rolled back to revision ${lo.rolledBackTo}`
  return s
}

export function StorePage({ name }: { name: string }) {
  const { client, me } = useSession()
  const { navigate } = useRouter()
  const [rec, setRec] = useState<StoreRecord | null>(null)
  const [progress, setProgress] = useState<Progress | undefined>()
  const [error, setError] = useState<ApiError | null>(null)
  const [actionError, setActionError] = useState('')
  const [creds, setCreds] = useState<Credentials | null>(null)
  const [busy, setBusy] = useState('')
  // The step waiting for a confirmation, if any.
  const [confirming, setConfirming] = useState<'' | 'delete' | 'force' | 'suspend'>('')

  useEffect(() => {
    const ac = new AbortController()
    setRec(null)
    setError(null)
    setCreds(null)
    client
      .getStore(name, ac.signal)
      .then((r: StoreResponse) => {
        // The event stream may have delivered a newer state already.
        const { progress: p, ...record } = r
        setRec((cur) => (cur && isOlder(record, cur) ? cur : record))
        setProgress((cur) => cur ?? p)
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError) setError(e)
      })
    void client.events(name, {
      signal: ac.signal,
      onEvent: (ev) => {
        if (ev.type === 'store') {
          const r = JSON.parse(ev.data) as StoreRecord
          setRec((cur) => (cur && isOlder(r, cur) ? cur : r))
        } else if (ev.type === 'progress') {
          setProgress(JSON.parse(ev.data) as Progress)
        }
      },
    })
    return () => ac.abort()
  }, [client, name])

  useEffect(() => {
    // Credentials are shown only while the store is ready.
    if (rec && rec.phase !== 'ready') setCreds(null)
  }, [rec])

  const act = async (what: string, fn: () => Promise<unknown>) => {
    setBusy(what)
    setActionError('')
    try {
      await fn()
    } catch (e) {
      if (e instanceof ApiError) setActionError(e.message)
      else throw e
    } finally {
      setBusy('')
    }
  }

  if (error) {
    return (
      <>
        <div className="page-head">
          <h1 tabIndex={-1}>{name}</h1>
        </div>
        <p className="error banner" role="alert">
          {error.status === 404 ? `There is no store called ${name}.` : error.message}
        </p>
        <Link to="/">Back to the stores</Link>
      </>
    )
  }
  if (!rec) return <p role="status">Loading {name}…</p>

  const showProgress = rec.phase !== 'deleted' || progress
  const canRetry = rec.phase === 'failed' || rec.phase === 'deletion_stuck' || rec.phase === 'degraded'
  const canForce = rec.phase === 'deletion_stuck' && me.role === 'admin'
  const canDelete = rec.phase !== 'deleting' && rec.phase !== 'deletion_stuck' && rec.phase !== 'deleted'
  // Operations after creation: settings, history, suspend and resume.
  const operable = ['ready', 'suspended', 'updating', 'degraded'].includes(rec.phase)
  const settled = rec.phase === 'ready' || rec.phase === 'suspended'
  const createLink = workflowLink(me, rec.createWorkflowId)
  const deleteLink = workflowLink(me, rec.deleteWorkflowId)
  const operationLink = workflowLink(me, rec.operation?.workflowId ?? rec.lastOperation?.workflowId)

  const confirmDelete = () =>
    void act('delete', async () => {
      await client.deleteStore(rec.name)
      setConfirming('')
      navigate('/')
    })
  const confirmed = (what: 'force' | 'suspend', fn: () => Promise<unknown>) =>
    void act(what, async () => {
      await fn()
      setConfirming('')
    })
  const notServed = urlNotice(rec, me.storeUrlNotice)

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>{rec.name}</h1>
        <PhaseBadge phase={rec.phase} />
      </div>
      <p className="visually-hidden" aria-live="polite">
        {rec.name} is {phaseLabel(rec.phase)}
      </p>
      <section className="card summary" aria-label="Store">
        <dl>
          <dt>Engine</dt>
          <dd>{engineLabel(rec.engine)}</dd>
          {rec.title && (
            <>
              <dt>Title</dt>
              <dd>{rec.title}</dd>
            </>
          )}
          {me.role === 'admin' && rec.owner && (
            <>
              <dt>Owner</dt>
              <dd data-testid="owner">{rec.owner}</dd>
            </>
          )}
          <dt>URL</dt>
          <dd>
            {rec.url && notServed ? (
              <span className="with-copy">
                <span>{rec.url}</span>
                <CopyButton text={rec.url} label="Copy the URL" />
              </span>
            ) : rec.url ? (
              <span className="with-copy">
                <a href={rec.url} target="_blank" rel="noreferrer">
                  {rec.url}
                </a>
                <CopyButton text={rec.url} label="Copy the URL" />
              </span>
            ) : (
              <span className="muted">when it is ready: {rec.host}</span>
            )}
            {notServed && (
              <p className="notice url-notice" data-testid="url-notice">
                {notServed}
              </p>
            )}
          </dd>
          <dt>Created</dt>
          <dd>
            <time dateTime={rec.createdAt} data-testid="created-at">
              {when(rec.createdAt)}
            </time>
          </dd>
          {rec.readyAt && (
            <>
              <dt>Ready</dt>
              <dd>
                <time dateTime={rec.readyAt} data-testid="ready-at">
                  {when(rec.readyAt)}
                </time>
                {!rec.lastOperation && !rec.operation && (
                  <span className="muted"> ({between(rec.createdAt, rec.readyAt)} after its creation)</span>
                )}
              </dd>
            </>
          )}
          <dt>Namespace</dt>
          <dd>
            <code>{rec.namespace}</code>
          </dd>
          {rec.size && (
            <>
              <dt>Size</dt>
              <dd data-testid="size">{rec.size}</dd>
            </>
          )}
          {rec.chartVersion && (
            <>
              <dt>Chart version</dt>
              <dd data-testid="chart-version">{rec.chartVersion}</dd>
            </>
          )}
          {rec.revision ? (
            <>
              <dt>Revision</dt>
              <dd data-testid="revision">{rec.revision}</dd>
            </>
          ) : null}
          {rec.message && (
            <>
              <dt>Status</dt>
              <dd data-testid="message">{rec.message}</dd>
            </>
          )}
          {rec.lastOperation && (
            <>
              <dt>Last operation</dt>
              <dd data-testid="last-operation" className={rec.lastOperation.failed ? 'error' : undefined}>
                {lastOperationText(rec)}
              </dd>
            </>
          )}
          {(createLink || deleteLink || operationLink) && (
            <>
              <dt>Workflows</dt>
              <dd className="links">
                {createLink && (
                  <a href={createLink} target="_blank" rel="noreferrer">
                    Creation in Temporal Web UI
                  </a>
                )}
                {deleteLink && (
                  <a href={deleteLink} target="_blank" rel="noreferrer">
                    Deletion in Temporal Web UI
                  </a>
                )}
                {operationLink && (
                  <a href={operationLink} target="_blank" rel="noreferrer">
                    Operations in Temporal Web UI
                  </a>
                )}
              </dd>
            </>
          )}
        </dl>
        <div className="actions">
          {rec.phase === 'ready' && !creds && (
            <button type="button" disabled={busy !== ''} onClick={() => act('creds', async () => setCreds(await client.credentials(rec.name)))}>
              Show admin credentials
            </button>
          )}
          {creds && (
            <button type="button" onClick={() => setCreds(null)}>
              Hide admin credentials
            </button>
          )}
          {rec.phase === 'ready' && (
            <button type="button" disabled={busy !== '' || confirming !== ''} onClick={() => setConfirming('suspend')}>
              Suspend
            </button>
          )}
          {rec.phase === 'suspended' && (
            <button type="button" className="primary" disabled={busy !== ''} onClick={() => act('resume', () => client.resumeStore(rec.name))}>
              Resume
            </button>
          )}
          {canRetry && (
            <button type="button" className="primary" disabled={busy !== ''} onClick={() => act('retry', () => client.retryStore(rec.name))}>
              Retry
            </button>
          )}
          {canForce && (
            <button type="button" className="danger" disabled={busy !== '' || confirming !== ''} onClick={() => setConfirming('force')}>
              Force deletion
            </button>
          )}
          {canDelete && confirming !== 'delete' && (
            <button type="button" className="danger" disabled={confirming !== ''} onClick={() => setConfirming('delete')}>
              Delete store
            </button>
          )}
        </div>
        {actionError && (
          <p className="error" role="alert">
            {actionError}
          </p>
        )}
        {creds && (
          <dl className="credentials" aria-label="Admin credentials">
            <dt>Login</dt>
            <dd className="with-copy">
              <a href={creds.loginUrl} target="_blank" rel="noreferrer">
                {creds.loginUrl}
              </a>
              <CopyButton text={creds.loginUrl} label="Copy the login URL" />
            </dd>
            <dt>Username</dt>
            <dd className="with-copy">
              <code data-testid="username">{creds.username}</code>
              <CopyButton text={creds.username} label="Copy the username" />
            </dd>
            <dt>Password</dt>
            <dd className="with-copy">
              <code data-testid="password">{creds.password}</code>
              <CopyButton text={creds.password} label="Copy the password" />
            </dd>
          </dl>
        )}
        {confirming === 'delete' && (
          <ConfirmByName
            name={rec.name}
            label="Confirm deletion"
            inputId="confirm-name"
            confirmText={`Delete ${rec.name}`}
            busy={busy !== ''}
            onConfirm={confirmDelete}
            onCancel={() => setConfirming('')}
          >
            Deleting <strong>{rec.name}</strong> removes its namespace, database and files. This cannot be undone.
          </ConfirmByName>
        )}
        {confirming === 'force' && canForce && (
          <ConfirmByName
            name={rec.name}
            label="Confirm forced deletion"
            inputId="confirm-force"
            confirmText={`Force the deletion of ${rec.name}`}
            busy={busy !== ''}
            onConfirm={() => confirmed('force', () => client.retryStore(rec.name, true))}
            onCancel={() => setConfirming('')}
          >
            Forcing removes the finalizers that hold <strong>{rec.name}</strong>'s namespace (listed below), without
            what they wait for: whatever they guard outside the cluster may be left behind. This cannot be undone.
          </ConfirmByName>
        )}
        {confirming === 'suspend' && rec.phase === 'ready' && (
          <ConfirmDialog
            title={`Suspend ${rec.name}?`}
            confirmText={`Suspend ${rec.name}`}
            busy={busy !== ''}
            onConfirm={() => confirmed('suspend', () => client.suspendStore(rec.name))}
            onCancel={() => setConfirming('')}
          >
            <p>
              Its pods stop and its URL serves nothing until it is resumed. Its data, volumes and credentials are kept.
            </p>
          </ConfirmDialog>
        )}
      </section>
      {rec.blockers && rec.blockers.length > 0 && (
        <section className="card" aria-labelledby="blockers-title">
          <h2 id="blockers-title">What blocks the deletion</h2>
          <ul className="blockers">
            {rec.blockers.map((b) => (
              <li key={b}>
                <code>{b}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
      {showProgress && <ProgressView record={rec} progress={progress} />}
      {rec.phase !== 'deleted' && <KubeEvents name={rec.name} namespace={rec.namespace} phase={rec.phase} />}
      {operable && <StoreSettings key={`${rec.revision ?? 0}-${rec.phase}`} rec={rec} disabled={!settled} />}
      {operable && <StoreHistory rec={rec} disabled={!settled} />}
      {rec.phase === 'deleted' && (
        <p className="notice">
          This store was deleted. <Link to="/">Back to the stores</Link>
        </p>
      )}
    </>
  )
}
