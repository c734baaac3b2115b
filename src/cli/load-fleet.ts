/**
 * The fleet machinery (targets, runner, tasks, views): imported here, for a fleet run only, so
 * that single-database runs do not load it.
 */
export async function loadFleetMachinery() {
  const [support, tasks, run, render] = await Promise.all([
    import('./fleet-support.js'),
    import('../fleet/fleet-tasks.js'),
    import('../fleet/run-fleet.js'),
    import('../ui/render-fleet.js'),
  ])
  return { ...support, ...tasks, worstExitCode: run.worstExitCode, groupFleetStatus: render.groupFleetStatus }
}
