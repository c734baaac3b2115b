// Preload (node --import) for tests of what a dbops run loads: every module id passed to
// require(), written as a JSON line to the file DBOPS_TEST_REQUIRES names when the process exits.
import fs from 'node:fs'
import Module from 'node:module'

const requested = []
const load = Module._load
Module._load = function (request, ...rest) {
  requested.push(String(request))
  return load.call(this, request, ...rest)
}
process.on('exit', () => fs.appendFileSync(process.env.DBOPS_TEST_REQUIRES, `${JSON.stringify(requested)}\n`))
