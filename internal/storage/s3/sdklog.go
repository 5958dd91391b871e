package s3

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// sdkLogger sends the AWS SDK's own messages (a retry, an IMDS fallback)
// to the store's logger, so that they come out in the server's format
// rather than as raw "SDK ..." lines on stderr. The SDK logs no requests
// or responses unless asked to (ClientLogMode), and it is not asked.
func sdkLogger(log *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "aws-sdk") // the SDK passes none
	})
}
