package artifact_test

import (
	"fmt"
	"time"

	"github.com/slipway-ml/slipway/runners/artifact"
)

// A fixed input always packs to the same manifest digest.
func ExamplePack() {
	files, err := artifact.ReadFiles(artifact.Dirs{
		Model:      "testdata/model",
		Features:   "testdata/features",
		Evaluation: "testdata/evaluation",
		Run:        "testdata/run",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	a, err := artifact.Pack(artifact.Input{
		Name:           "churn",
		Version:        "1.2.0",
		Source:         "https://github.com/example/ml",
		Revision:       "0123456789abcdef0123456789abcdef01234567",
		Created:        time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		SlipwayVersion: "0.1.0",
		Files:          files,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Digest())
	// Output:
	// sha256:5201607df9e6a682dd972ddae2482680a99ab12e93838997f351ac34926028e8
}
