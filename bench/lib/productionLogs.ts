// rtc-node logs at debug level to stdout unless NODE_ENV=production, which would break the bench's JSON output.
// Imported before anything that loads rtc-node; the worker and job processes inherit it.
process.env.NODE_ENV ??= 'production';
