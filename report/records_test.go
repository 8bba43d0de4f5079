package report

import "github.com/erlgo/erlgo/erl"

func ptr(v float64) *float64 { return &v }

// testRecords returns n records, steps 1..n, with post-reflection success and the lift on odd
// steps (n retried attempts at one task, step of them solved by the guided retry and step/2
// by the plain one) and an evaluation every third step, so that both present and absent
// optional fields occur.
func testRecords(n int) []erl.Record {
	recs := make([]erl.Record, n)
	for i := range recs {
		step := i + 1
		r := erl.Record{
			Step:        step,
			WallSeconds: 1.5 * float64(step),
			EnvSteps:    int64(40 * step),
			Tokens:      int64(1000 * step),
			Loss:        1 / float64(step),
			PG:          0.5 / float64(step),
			SuccessPre:  float64(step) / float64(2*n),
			StepSeconds: 1.5,
		}
		if step%2 == 1 {
			r.SuccessPost = ptr(float64(step) / float64(n))
			r.Retried = n
			r.SuccessPlain = ptr(float64(step/2) / float64(n))
			r.Lift = ptr(float64(step-step/2) / float64(n))
			r.RetryTasks = []erl.RetryCount{{Attempts: n, Guided: step, Plain: step / 2}}
		}
		if step%3 == 0 {
			r.EvalGreedy = ptr(float64(step) / float64(n))
			r.EvalSampled = ptr(0.9 * float64(step) / float64(n))
		}
		recs[i] = r
	}
	return recs
}
