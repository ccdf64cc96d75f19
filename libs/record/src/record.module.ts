import { Global, Module } from '@nestjs/common';
import { RecordController } from './record.controller';
import { RecordFormats } from './record-format';
import { RecordService } from './record.service';
import { RecordingsService } from './recordings.service';

/**
 * Recording: recorders per stream and format, the recordings table and its jobs, the /api/record routes.
 * Global so the protocol modules can register their format into RecordFormats (at construction or init) and
 * read rows through RecordingsService.
 */
@Global()
@Module({
  controllers: [RecordController],
  providers: [RecordFormats, RecordingsService, RecordService],
  exports: [RecordFormats, RecordingsService, RecordService],
})
export class RecordModule {}
