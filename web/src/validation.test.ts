import { describe, expect, it } from 'vitest'
import {
  MsgEmail,
  MsgEngine,
  MsgHost,
  MsgNamePrefix,
  MsgSize,
  MsgTenant,
  MsgMedusaImage,
  MsgMedusaImageForm,
  MsgNameFormat,
  MsgNameRequired,
  MsgNameReserved,
  MsgTitle,
  toRequest,
  validate,
  validateChange,
  validateHost,
  validateName,
  validateNamePrefix,
  validateTenant,
  type CreateForm,
} from './validation'

const form = (f: Partial<CreateForm>): CreateForm => ({
  name: 'shop',
  engine: 'woocommerce',
  title: '',
  adminEmail: '',
  medusaImage: '',
  size: '',
  host: '',
  ...f,
})

describe('validateName (the rules of api.ValidateName)', () => {
  it.each([
    ['shop', ''],
    ['my-shop-2', ''],
    ['abc', ''],
    ['a'.repeat(40), ''],
    ['', MsgNameRequired],
    ['ab', MsgNameFormat],
    ['a'.repeat(41), MsgNameFormat],
    ['Shop', MsgNameFormat],
    ['bad_name', MsgNameFormat],
    ['1shop', MsgNameFormat],
    ['shop-', MsgNameFormat],
    ['-shop', MsgNameFormat],
    ['shop.example', MsgNameFormat],
    ['default', MsgNameReserved],
    ['api', MsgNameReserved],
    ['kube-thing', MsgNameReserved],
    ['openshift-x', MsgNameReserved],
    ['store-platform', MsgNameReserved],
  ])('%j -> %j', (name, want) => {
    expect(validateName(name)).toBe(want)
  })
})

describe('validate', () => {
  it.each<[string, Partial<CreateForm>, Record<string, string>]>([
    ['a valid WooCommerce store', {}, {}],
    ['a valid Medusa store', { engine: 'medusa', medusaImage: 'registry.example.com/shop/medusa:1.2.3' }, {}],
    ['a Medusa store by digest', { engine: 'medusa', medusaImage: 'shop/medusa@sha256:' + 'a'.repeat(64) }, {}],
    ['no engine', { engine: '' }, { engine: MsgEngine }],
    ['Medusa without image', { engine: 'medusa' }, { medusaImage: MsgMedusaImage }],
    ['Medusa with :latest', { engine: 'medusa', medusaImage: 'shop/medusa:latest' }, { medusaImage: MsgMedusaImageForm }],
    ['Medusa without tag', { engine: 'medusa', medusaImage: 'shop/medusa' }, { medusaImage: MsgMedusaImageForm }],
    ['a long title', { title: 'x'.repeat(201) }, { title: MsgTitle }],
    ['a title of 200 characters', { title: 'é'.repeat(200) }, {}],
    ['a bad email', { adminEmail: 'not-an-email' }, { adminEmail: MsgEmail }],
    ['several bad fields', { name: 'X', adminEmail: 'x@' }, { name: MsgNameFormat, adminEmail: MsgEmail }],
    ['a size of the API', { size: 'large' }, {}],
    ['a size the API does not have', { size: 'huge' }, { size: MsgSize }],
    ['a host', { host: 'www.shop.stores.localhost' }, {}],
    ['a bad host', { host: 'www.Shop' }, { host: MsgHost }],
  ])('%s', (_, f, want) => {
    expect(validate(form(f), ['small', 'medium', 'large'])).toEqual(want)
  })

  it('sends the size and the host only when chosen', () => {
    expect(toRequest(form({}))).toEqual({ name: 'shop', engine: 'woocommerce' })
    expect(toRequest(form({ size: 'medium', host: 'shop.example.com' }))).toEqual({
      name: 'shop',
      engine: 'woocommerce',
      size: 'medium',
      host: 'shop.example.com',
    })
  })

  it('sends the Medusa image only for Medusa stores', () => {
    expect(toRequest(form({ medusaImage: 'left/over:1' }))).toEqual({ name: 'shop', engine: 'woocommerce' })
    expect(toRequest(form({ engine: 'medusa', medusaImage: 'a/b:1', title: 'T', adminEmail: 'a@b.co' }))).toEqual({
      name: 'shop',
      engine: 'medusa',
      medusaImage: 'a/b:1',
      title: 'T',
      adminEmail: 'a@b.co',
    })
  })
})

describe('validateHost (the host rule of api.CreateStoreRequest.Validate)', () => {
  it.each([
    ['', ''],
    ['shop.example.com', ''],
    ['a.b', ''],
    ['localhost', ''],
    ['xn--bcher-kva.example', ''],
    ['a'.repeat(63) + '.example.com', ''],
    ['a'.repeat(64) + '.example.com', MsgHost],
    ['Shop.example.com', MsgHost],
    ['-shop.example.com', MsgHost],
    ['shop-.example.com', MsgHost],
    ['shop..example.com', MsgHost],
    ['shop.example.com.', MsgHost],
    ['shop.example.com:8080', MsgHost],
    ['*.example.com', MsgHost],
    [Array(64).fill('abc').join('.'), MsgHost],
  ])('%j -> %j', (host, want) => {
    expect(validateHost(host)).toBe(want)
  })
})

describe('validateNamePrefix (GET /api/stores?name=)', () => {
  it.each([
    ['s', ''],
    ['shop-2', ''],
    ['-', ''],
    ['a'.repeat(40), ''],
    ['', MsgNamePrefix],
    ['a'.repeat(41), MsgNamePrefix],
    ['Shop', MsgNamePrefix],
    ['shop_', MsgNamePrefix],
    ['shop.', MsgNamePrefix],
  ])('%j -> %j', (prefix, want) => {
    expect(validateNamePrefix(prefix)).toBe(want)
  })
})

describe('validateTenant (auth.ValidateTenant)', () => {
  it.each([
    ['acme', ''],
    ['Acme_2.eu-west', ''],
    ['a'.repeat(63), ''],
    ['a'.repeat(64), MsgTenant],
    ['', MsgTenant],
    ['-acme', MsgTenant],
    ['ac me', MsgTenant],
  ])('%j -> %j', (tenant, want) => {
    expect(validateTenant(tenant)).toBe(want)
  })
})

describe('validateChange', () => {
  const change = { title: '', adminEmail: '', size: 'medium', medusaImage: '', host: '' }
  it.each<[string, string[], Record<string, string>]>([
    ['a size of the API', ['small', 'medium'], {}],
    ['a size the API does not have', ['small', 'large'], { size: MsgSize }],
    ['while the sizes are unknown', [], {}],
  ])('%s', (_, names, want) => {
    expect(validateChange(change, 'woocommerce', names)).toEqual(want)
  })
})
