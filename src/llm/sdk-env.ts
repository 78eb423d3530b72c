/**
 * Imported by bedrock.ts before the AWS SDK: the SDK warns on stderr about Node versions it will
 * stop supporting, which is noise for a rulegen user (rulegen states its own Node range).
 */
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
