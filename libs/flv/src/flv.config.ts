import { PluginSectionConfig } from '@m7s/core';

export class FlvConfig extends PluginSectionConfig {}
