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

const nameRE = /^[a-z]([-a-z0-9]{1,38}[a-z0-9])$/
const emailRE = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$/
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

export type Engine = 'woocommerce' | 'medusa'

export interface CreateForm {
  name: string
  engine: Engine | ''
  title: string
  adminEmail: string
  medusaImage: string
}

export type FieldErrors = Partial<Record<keyof CreateForm, string>>

/** validateName returns the API's message for a bad name, or '' when it is valid. */
export function validateName(name: string): string {
  if (name === '') return MsgNameRequired
  if (!nameRE.test(name)) return MsgNameFormat
  if (reserved.has(name) || name.startsWith('kube-') || name.startsWith('openshift-')) return MsgNameReserved
  return ''
}

/** validate returns the bad fields of the form, keyed as the API names them. */
export function validate(f: CreateForm): FieldErrors {
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
  return errs
}

/** toRequest is the body of POST /api/stores for the form. */
export function toRequest(f: CreateForm): Record<string, string> {
  const body: Record<string, string> = { name: f.name, engine: f.engine }
  if (f.title !== '') body.title = f.title
  if (f.adminEmail !== '') body.adminEmail = f.adminEmail
  if (f.engine === 'medusa') body.medusaImage = f.medusaImage
  return body
}
