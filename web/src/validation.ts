// Validation of the create form. The rules and messages are the API's
// (api/request.go); TestDashboardUsesTheAPIMessages checks that every
// message below is the server's text, so the form says what the server says.

export const MsgNameRequired = 'is required'
export const MsgNameFormat =
  'must be 3 to 40 characters: lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit'
export const MsgNameReserved = 'is reserved'
export const MsgEngine = 'must be woocommerce or medusa'
export const MsgTitle = 'must be at most 200 characters'
export const MsgEmail = 'must be an email address'
export const MsgMedusaImage = 'is required for a Medusa store: repository:tag of your Medusa image'
export const MsgMedusaImageForm = 'must be repository:tag or repository@sha256:digest, and not :latest'
export const MsgHost = 'must be a DNS host name such as shop.example.com'
export const MsgSize = 'must be small, medium or large'
export const MsgNamePrefix =
  "must be 1 to 40 characters: lowercase letters, digits and hyphens (the start of a store's name)"
// auth.ErrInvalidTenant: the rule for tenant names (GET /api/stores?owner=).
export const MsgTenant =
  "tenant must be 1 to 63 characters: letters, digits, '-', '_' and '.', starting with a letter or digit"

const nameRE = /^[a-z]([-a-z0-9]{1,38}[a-z0-9])$/
const emailRE = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$/
const hostRE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/
const namePrefixRE = /^[-a-z0-9]{1,40}$/
const tenantRE = /^[A-Za-z0-9][-A-Za-z0-9_.]*$/
const imageRE = /^[a-z0-9]+([._/:-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/
const reserved = new Set([
  'default',
  'temporal',
  'storeplatform',
  'store-platform',
  'ingress-nginx',
  'cert-manager',
  'monitoring',
  'admin',
  'api',
])
// Namespaces a store must not get (a store's namespace is 'store-' + name):
// store-platform is the platform's own.
const reservedNamespaces = new Set(['store-platform'])

export type Engine = 'woocommerce' | 'medusa'

export interface CreateForm {
  name: string
  engine: Engine | ''
  title: string
  adminEmail: string
  medusaImage: string
  /** size is one of GET /api/sizes; '' leaves the API's default. */
  size: string
  /** host is the store's address; '' leaves the API's default, <name>.<STORE_DOMAIN>. */
  host: string
}

export type FieldErrors = Partial<Record<keyof CreateForm, string>>

/** validateName returns the API's message for a bad name, or '' when it is valid. */
export function validateName(name: string): string {
  if (name === '') return MsgNameRequired
  if (!nameRE.test(name)) return MsgNameFormat
  if (reserved.has(name) || name.startsWith('kube-') || name.startsWith('openshift-')) return MsgNameReserved
  if (reservedNamespaces.has('store-' + name)) return MsgNameReserved
  return ''
}

/** validateHost returns the API's message for a bad host ('' is the default, so valid). */
export function validateHost(host: string): string {
  return host !== '' && (host.length > 253 || !hostRE.test(host)) ? MsgHost : ''
}

/**
 * validateNamePrefix returns the API's message for a bad search by name
 * (GET /api/stores?name=), or '' when it is valid.
 */
export function validateNamePrefix(prefix: string): string {
  return namePrefixRE.test(prefix) ? '' : MsgNamePrefix
}

/** validateTenant returns the API's message for a bad tenant name, or ''. */
export function validateTenant(tenant: string): string {
  return tenant.length <= 63 && tenantRE.test(tenant) ? '' : MsgTenant
}

/**
 * validate returns the bad fields of the form, keyed as the API names them.
 * sizeNames are the sizes of GET /api/sizes; empty while they are unknown.
 */
export function validate(f: CreateForm, sizeNames: string[] = []): FieldErrors {
  const errs: FieldErrors = {}
  const name = validateName(f.name)
  if (name) errs.name = name
  if (f.engine === 'medusa') {
    if (f.medusaImage === '') errs.medusaImage = MsgMedusaImage
    else if (!imageRE.test(f.medusaImage) || f.medusaImage.endsWith(':latest')) errs.medusaImage = MsgMedusaImageForm
  } else if (f.engine !== 'woocommerce') {
    errs.engine = MsgEngine
  }
  if ([...f.title].length > 200) errs.title = MsgTitle
  if (f.adminEmail !== '' && !emailRE.test(f.adminEmail)) errs.adminEmail = MsgEmail
  if (f.size !== '' && sizeNames.length > 0 && !sizeNames.includes(f.size)) errs.size = MsgSize
  const host = validateHost(f.host)
  if (host) errs.host = host
  return errs
}

/** toRequest is the body of POST /api/stores for the form. */
export function toRequest(f: CreateForm): Record<string, string> {
  const body: Record<string, string> = { name: f.name, engine: f.engine }
  if (f.title !== '') body.title = f.title
  if (f.adminEmail !== '') body.adminEmail = f.adminEmail
  if (f.engine === 'medusa') body.medusaImage = f.medusaImage
  if (f.size !== '') body.size = f.size
  if (f.host !== '') body.host = f.host
  return body
}

/** The fields of a store that a change (PATCH /api/stores/{name}) may set. */
export interface ChangeForm {
  title: string
  adminEmail: string
  size: string
  medusaImage: string
  host: string
}

export type ChangeErrors = Partial<Record<keyof ChangeForm, string>>

/**
 * validateChange returns the bad fields of the settings form, with the API's
 * messages. sizeNames are the sizes of GET /api/sizes; empty while unknown.
 */
export function validateChange(f: ChangeForm, engine: string, sizeNames: string[] = []): ChangeErrors {
  const errs: ChangeErrors = {}
  if ([...f.title].length > 200) errs.title = MsgTitle
  if (f.adminEmail !== '' && !emailRE.test(f.adminEmail)) errs.adminEmail = MsgEmail
  if (sizeNames.length > 0 && !sizeNames.includes(f.size)) errs.size = MsgSize
  const host = validateHost(f.host)
  if (host) errs.host = host
  if (engine === 'medusa') {
    if (f.medusaImage === '') errs.medusaImage = MsgMedusaImage
    else if (!imageRE.test(f.medusaImage) || f.medusaImage.endsWith(':latest')) errs.medusaImage = MsgMedusaImageForm
  }
  return errs
}

/** changeRequest is the body of the PATCH: only the fields that differ from the store. */
export function changeRequest(f: ChangeForm, cur: ChangeForm): Partial<ChangeForm> {
  const body: Partial<ChangeForm> = {}
  for (const k of Object.keys(f) as (keyof ChangeForm)[]) {
    if (f[k] !== cur[k]) body[k] = f[k]
  }
  return body
}
