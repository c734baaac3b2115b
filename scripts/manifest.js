// Writes oclif.manifest.json (what `oclif manifest` does), so start-up reads one file
// instead of importing every command to learn its flags.
import fs from 'node:fs'
import { Config } from '@oclif/core'

const root = new URL('..', import.meta.url).pathname
const config = await Config.load({ root, devPlugins: false, userPlugins: false })
const plugin = config.getPluginsList().find((p) => p.isRoot)
if (!plugin) throw new Error('root plugin not found')
const manifest = { ...plugin.manifest, version: config.version }
fs.writeFileSync(new URL('../oclif.manifest.json', import.meta.url), JSON.stringify(manifest, null, 2))
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`)
