import { describe, expect, it } from 'vitest'
import {
  MsgEmail,
  MsgEngine,
  MsgMedusaImage,
  MsgMedusaImageForm,
  MsgNameFormat,
  MsgNameRequired,
  MsgNameReserved,
  MsgTitle,
  toRequest,
  validate,
  validateName,
  type CreateForm,
} from './validation'

const form = (f: Partial<CreateForm>): CreateForm => ({
  name: 'shop',
  engine: 'woocommerce',
  title: '',
  adminEmail: '',
  medusaImage: '',
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
  ])('%s', (_, f, want) => {
    expect(validate(form(f))).toEqual(want)
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
