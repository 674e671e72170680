// StackSim: the library other Swift packages depend on. It re-exports the scenario model, the
// actions, the ports and the runner; the stores' and the measurement's internals stay internal.
@_exported import Reporting
@_exported import Scenario
@_exported import Simulation
@_exported import StackCore
@_exported import StackModel
