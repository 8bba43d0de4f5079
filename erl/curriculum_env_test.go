package erl

import (
	"testing"

	"github.com/erlgo/erlgo/envs"
)

// TestCurriculumLengthsPerEnv checks that the curricula draw only lengths the environment's
// levels have: FrozenLake's need at most 6 moves, so a curriculum over the step budget of 8
// would ask for levels that never come.
func TestCurriculumLengthsPerEnv(t *testing.T) {
	for env, maxMoves := range map[string]int{envs.EnvSokoban: 8, envs.EnvFrozenLake: 6} {
		for _, curriculum := range []string{CurriculumAdaptive, CurriculumEvenMoves} {
			cfg := testConfig(AlgoRLVR)
			cfg.Env, cfg.Curriculum, cfg.Batch = env, curriculum, 30
			tr := newTestTrainer(t, cfg)
			if len(tr.Lengths.Success) != maxMoves {
				t.Errorf("%s: the adaptive curriculum holds %d lengths, want %d", env, len(tr.Lengths.Success), maxMoves)
			}
			seen := map[int]bool{}
			for step := 1; step <= 3; step++ {
				_, moves, err := tr.trainingTasks(step)
				if err != nil {
					t.Fatalf("%s, %s: %v", env, curriculum, err)
				}
				for _, m := range moves {
					seen[m] = true
				}
			}
			for m := 1; m <= maxMoves; m++ {
				if !seen[m] {
					t.Errorf("%s, %s: 90 levels, none of %d moves", env, curriculum, m)
				}
			}
			if len(seen) != maxMoves {
				t.Errorf("%s, %s: lengths %v drawn, want 1 to %d", env, curriculum, seen, maxMoves)
			}
		}
	}
}
