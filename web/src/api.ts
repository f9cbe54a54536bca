// The API client: typed calls to Store Platform's HTTP API, and the mapping
// of every failure (problem+json, other error bodies, network errors) to one
// ApiError the views can show.
import { stream, type StreamOptions } from './sse'

export type Phase =
  | 'requested'
  | 'provisioning'
  | 'ready'
  | 'updating'
  | 'suspended'
  | 'degraded'
  | 'failed'
  | 'deleting'
  | 'deletion_stuck'
  | 'deleted'

export const phases: Phase[] = [
  'requested',
  'provisioning',
  'ready',
  'updating',
  'suspended',
  'degraded',
  'failed',
  'deleting',
  'deletion_stuck',
  'deleted',
]

/** OperationKind is what can happen to a store after its creation. */
export type OperationKind = 'change' | 'rollback' | 'suspend' | 'resume' | 'upgrade'

export interface Operation {
  kind: OperationKind
  workflowId: string
  startedAt?: string
}

export interface OperationResult {
  kind: OperationKind
  failed: boolean
  reason?: string
  revision?: number
  rolledBackTo?: number
  workflowId: string
  finishedAt: string
}

export interface Workload {
  kind: string
  name: string
  ready: number
  desired: number
  reason?: string
}

export interface StoreRecord {
  name: string
  generation: number
  engine: string
  title?: string
  adminEmail?: string
  host: string
  medusaImage?: string
  owner?: string
  phase: Phase
  message?: string
  url?: string
  namespace: string
  blockers?: string[]
  workloads?: Workload[]
  createdAt: string
  updatedAt: string
  readyAt?: string
  deletedAt?: string
  createWorkflowId?: string
  deleteWorkflowId?: string
  size?: string
  suspended?: boolean
  revision?: number
  operation?: Operation
  lastOperation?: OperationResult
  urlAvailable?: boolean
  chartVersion?: string
}

export interface ChartVersion {
  version: string
  appVersion?: string
  current?: boolean
}

export interface ChartVersions {
  default: string
  items: ChartVersion[]
}

export interface RolloutSelector {
  engine?: string
  tenant?: string
}

export interface RolloutRequest {
  chartVersion: string
  canary?: number
  batchSize?: number
  maxFailures?: number
  selector?: RolloutSelector
}

export interface RolloutSummary {
  id: string
  workflowId: string
  chartVersion: string
  status: string
  startedAt: string
}

export type RolloutStoreState = 'pending' | 'upgrading' | 'ready' | 'failed' | 'skipped' | 'dropped'

export interface RolloutStore {
  name: string
  state: RolloutStoreState
  batch?: number
  revision?: number
  reason?: string
}

export interface RolloutState {
  id: string
  chartVersion: string
  canary: number
  batchSize: number
  maxFailures: number
  selector: RolloutSelector
  status: 'running' | 'paused' | 'completed' | 'failed' | 'aborted'
  reason?: string
  batch: number
  stores: RolloutStore[]
  counts: Partial<Record<RolloutStoreState, number>>
  failures: number
}

/** Revision is one revision of a store's Helm release. */
export interface Revision {
  revision: number
  chartVersion: string
  appVersion?: string
  status: string
  updatedAt: string
  description?: string
  size: string
  suspended?: boolean
  changes: string[]
}

export interface History {
  store: string
  items: Revision[]
}

/** SizeWorkload is one workload of a size: its replicas and Kubernetes resources. */
export interface SizeWorkload {
  replicas: number
  resources?: {
    requests?: Record<string, string | number>
    limits?: Record<string, string | number>
  } | null
}

/** Size is one size of GET /api/sizes, as the platform's profile makes it. */
export interface Size {
  name: string
  /** quota is the namespace's ResourceQuota: requests.cpu, limits.memory, ... */
  quota: Record<string, string | number>
  /** workloads maps an engine to its workloads (wordpress, mariadb, ...). */
  workloads: Record<string, Record<string, SizeWorkload>>
  /** volumes maps a workload to its volume's size at creation. */
  volumes: Record<string, string>
}

export interface Sizes {
  profile: string
  default: string
  items: Size[]
}

/** ChangeRequest is the body of PATCH /api/stores/{name}: the fields to change. */
export type ChangeRequest = Partial<Record<'title' | 'adminEmail' | 'size' | 'medusaImage' | 'host', string>>

export interface OperationResponse {
  store: StoreRecord
  operation: Operation
}

export interface Step {
  name: string
  status: 'running' | 'done' | 'failed' | 'compensated'
  startedAt: string
  completedAt?: string
  error?: string
  attempt: number
}

export interface Progress {
  workflow: 'create' | 'delete' | OperationKind
  store: string
  generation: number
  phase: Phase
  currentStep?: string
  steps: Step[]
  lastError?: string
  blockers?: string[]
  waitingFor?: string
  attempt: number
}

export interface StoreResponse extends StoreRecord {
  progress?: Progress
}

export interface StoreList {
  items: StoreRecord[]
  nextCursor?: string
}

export interface Me {
  tenant: string
  role: 'tenant' | 'admin'
  tokenId: string
  tokenName?: string
  temporalWorkflowUrl?: string
  /**
   * storeUrlNotice, when set, says why no store URL serves (the local
   * stack's simulated nodes): URLs are then shown as text, with the note.
   */
  storeUrlNotice?: string
  /** storeCount is how many stores (not deleted) the tenant has; storeLimit how many it may have. */
  storeCount?: number
  storeLimit?: number
}

/** KubeEvent is a Kubernetes event of a store's namespace. */
export interface KubeEvent {
  type: 'Warning' | 'Normal' | string
  reason: string
  message: string
  /** object is Kind/name: Pod/medusa-7c9d. */
  object: string
  count: number
  firstSeen: string
  lastSeen: string
}

export interface Credentials {
  store: string
  loginUrl: string
  username: string
  password: string
}

export interface ListQuery {
  status?: string
  engine?: string
  /** name selects the stores whose name starts with it. */
  name?: string
  /** owner selects one tenant's stores (admins only). */
  owner?: string
  cursor?: string
  limit?: number
}

/** ApiError is any failed call. status 0 means the API could not be reached. */
export class ApiError extends Error {
  readonly status: number
  readonly type: string
  readonly title: string
  readonly detail: string
  readonly requestId: string
  /** fields maps a request field (name, engine, ...) to the server's message. */
  readonly fields: Record<string, string>

  constructor(init: {
    status: number
    type?: string
    title: string
    detail?: string
    requestId?: string
    fields?: Record<string, string>
  }) {
    super(init.detail ? `${init.title}: ${init.detail}` : init.title)
    this.name = 'ApiError'
    this.status = init.status
    this.type = init.type ?? 'about:blank'
    this.title = init.title
    this.detail = init.detail ?? ''
    this.requestId = init.requestId ?? ''
    this.fields = init.fields ?? {}
  }

  /** problem is the problem type's last segment: "validation", "conflict", ... */
  get problem(): string {
    return this.type.split('/').pop() ?? ''
  }
}

interface ProblemBody {
  type?: string
  title?: string
  status?: number
  detail?: string
  requestId?: string
  errors?: { field: string; message: string }[]
}

/** toApiError reads a failed response: problem+json when the API sent one. */
export async function toApiError(res: Response): Promise<ApiError> {
  const ctype = res.headers.get('Content-Type') ?? ''
  if (ctype.includes('json')) {
    try {
      const p = (await res.json()) as ProblemBody
      if (p && typeof p === 'object' && typeof p.title === 'string') {
        const fields: Record<string, string> = {}
        for (const e of p.errors ?? []) {
          if (e && typeof e.field === 'string' && typeof e.message === 'string' && !(e.field in fields)) {
            fields[e.field] = e.message
          }
        }
        return new ApiError({
          status: res.status,
          type: p.type,
          title: p.title,
          detail: p.detail,
          requestId: p.requestId ?? res.headers.get('X-Request-ID') ?? undefined,
          fields,
        })
      }
    } catch {
      // Not JSON after all: described below by its status.
    }
  }
  return new ApiError({
    status: res.status,
    title: res.statusText || `HTTP ${res.status}`,
    detail: `the server answered ${res.status} without a problem description`,
    requestId: res.headers.get('X-Request-ID') ?? undefined,
  })
}

export class ApiClient {
  private readonly token: string
  private readonly fetchImpl: typeof fetch
  private readonly onUnauthorized: () => void

  /**
   * onUnauthorized is called whenever the API answers 401, to any call or
   * event stream: the token was revoked or is wrong. The call still fails.
   */
  constructor(token: string, fetchImpl: typeof fetch = (...a) => fetch(...a), onUnauthorized: () => void = () => {}) {
    this.token = token
    this.fetchImpl = fetchImpl
    this.onUnauthorized = onUnauthorized
  }

  private async call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: 'application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    let res: Response
    try {
      res = await this.fetchImpl(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      })
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e
      throw new ApiError({ status: 0, title: 'Cannot reach the API', detail: 'check your connection and that the API is running' })
    }
    if (res.status === 401) this.onUnauthorized()
    if (!res.ok) throw await toApiError(res)
    return (await res.json()) as T
  }

  me(signal?: AbortSignal): Promise<Me> {
    return this.call('GET', '/api/me', undefined, signal)
  }

  listStores(q: ListQuery = {}, signal?: AbortSignal): Promise<StoreList> {
    const params = new URLSearchParams()
    if (q.status) params.set('status', q.status)
    if (q.engine) params.set('engine', q.engine)
    if (q.name) params.set('name', q.name)
    if (q.owner) params.set('owner', q.owner)
    if (q.cursor) params.set('cursor', q.cursor)
    if (q.limit) params.set('limit', String(q.limit))
    const qs = params.toString()
    return this.call('GET', '/api/stores' + (qs ? '?' + qs : ''), undefined, signal)
  }

  getStore(name: string, signal?: AbortSignal): Promise<StoreResponse> {
    return this.call('GET', `/api/stores/${encodeURIComponent(name)}`, undefined, signal)
  }

  createStore(body: Record<string, string>): Promise<StoreResponse> {
    return this.call('POST', '/api/stores', body)
  }

  deleteStore(name: string): Promise<StoreResponse> {
    return this.call('DELETE', `/api/stores/${encodeURIComponent(name)}`)
  }

  retryStore(name: string, force = false): Promise<{ store: string; workflowId: string; signal: string }> {
    return this.call('POST', `/api/stores/${encodeURIComponent(name)}/retry`, force ? { force: true } : undefined)
  }

  /** changeStore answers the store itself (200) when nothing changes, else the started operation (202). */
  changeStore(name: string, body: ChangeRequest): Promise<StoreResponse | OperationResponse> {
    return this.call('PATCH', `/api/stores/${encodeURIComponent(name)}`, body)
  }

  rollbackStore(name: string, revision: number): Promise<OperationResponse> {
    return this.call('POST', `/api/stores/${encodeURIComponent(name)}/rollback`, { revision })
  }

  suspendStore(name: string): Promise<OperationResponse> {
    return this.call('POST', `/api/stores/${encodeURIComponent(name)}/suspend`)
  }

  resumeStore(name: string): Promise<OperationResponse> {
    return this.call('POST', `/api/stores/${encodeURIComponent(name)}/resume`)
  }

  history(name: string, signal?: AbortSignal): Promise<History> {
    return this.call('GET', `/api/stores/${encodeURIComponent(name)}/history`, undefined, signal)
  }

  sizes(signal?: AbortSignal): Promise<Sizes> {
    return this.call('GET', '/api/sizes', undefined, signal)
  }

  chartVersions(signal?: AbortSignal): Promise<ChartVersions> {
    return this.call('GET', '/api/chart-versions', undefined, signal)
  }

  rollouts(signal?: AbortSignal): Promise<{ items: RolloutSummary[] }> {
    return this.call('GET', '/api/rollouts', undefined, signal)
  }

  rollout(id: string, signal?: AbortSignal): Promise<RolloutState> {
    return this.call('GET', `/api/rollouts/${encodeURIComponent(id)}`, undefined, signal)
  }

  startRollout(body: RolloutRequest): Promise<RolloutSummary> {
    return this.call('POST', '/api/rollouts', body)
  }

  signalRollout(id: string, signal: 'pause' | 'resume' | 'abort'): Promise<{ rollout: string; signal: string }> {
    return this.call('POST', `/api/rollouts/${encodeURIComponent(id)}/${signal}`)
  }

  /** rolloutEvents follows one rollout's state until it ends or signal aborts. */
  rolloutEvents(id: string, o: Pick<StreamOptions, 'onEvent' | 'onState' | 'signal'>): Promise<void> {
    return stream({
      ...o,
      url: `/api/rollouts/${encodeURIComponent(id)}/events`,
      authorization: `Bearer ${this.token}`,
      fetchImpl: this.fetchImpl,
      onUnauthorized: this.onUnauthorized,
    })
  }

  /** kubernetesEvents lists the events of the store's namespace: warnings first, then the newest. */
  kubernetesEvents(name: string, signal?: AbortSignal): Promise<{ items: KubeEvent[] }> {
    return this.call('GET', `/api/stores/${encodeURIComponent(name)}/kubernetes-events`, undefined, signal)
  }

  credentials(name: string): Promise<Credentials> {
    return this.call('GET', `/api/stores/${encodeURIComponent(name)}/credentials`)
  }

  /** events follows the event stream of one store, or of all the caller's, until signal aborts. */
  events(name: string | undefined, o: Pick<StreamOptions, 'onEvent' | 'onState' | 'signal'>): Promise<void> {
    return stream({
      ...o,
      url: name ? `/api/stores/${encodeURIComponent(name)}/events` : '/api/events',
      authorization: `Bearer ${this.token}`,
      fetchImpl: this.fetchImpl,
      onUnauthorized: this.onUnauthorized,
    })
  }
}

/** workflowLink fills the API's Temporal Web UI template for one workflow. */
export function workflowLink(me: Me | null, workflowId: string | undefined): string {
  if (!me?.temporalWorkflowUrl || !workflowId) return ''
  return me.temporalWorkflowUrl.replace('{workflowId}', encodeURIComponent(workflowId))
}
