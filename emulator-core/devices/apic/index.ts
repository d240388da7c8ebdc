export { ApicBus, type ApicBusTarget, type EoiListener } from './apic-bus.js';
export { DEFAULT_APIC_BUS_HZ, LocalApic, type LocalApicOptions } from './local-apic.js';
export { IoApic, type IoApicOptions } from './io-apic.js';
export {
  IOAPIC_BASE,
  IOAPIC_ID,
  IOAPIC_SIZE,
  LAPIC_BASE,
  LAPIC_SIZE,
  MSR_IA32_APIC_BASE,
  MSR_IA32_TSC_DEADLINE,
} from './constants.js';
