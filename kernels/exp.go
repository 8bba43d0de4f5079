package kernels

import "math"

// The constants of exp32 and of its vector forms (vec_amd64.s).
const (
	log2e = 1.44269504088896341
	// ln2Hi has few significant bits, so n*ln2Hi is exact for every n in range.
	ln2Hi = 0.693359375
	ln2Lo = -2.12194440e-4
	// Adding roundMagic (1.5·2²³) to a float32 of magnitude below 2²² leaves the nearest
	// integer in the low mantissa bits.
	roundMagic = 12582912
	maxArg     = 88.72283 // ln(MaxFloat32)
	// minArg keeps the result's exponent, built by adding n to the bits of a value in
	// [0.7, 1.5), normal.
	minArg = -87
	// expP5 to expP0 are the coefficients of e^r ≈ 1 + r + r²·(p0 + p1·r + … + p5·r⁵).
	expP5, expP4, expP3 = 1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3
	expP2, expP1, expP0 = 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1
)

// exp32 returns e^x in float32 arithmetic with relative error below 1.5e-7 (Cephes expf:
// reduction by a two-part ln 2, then a degree-6 polynomial). The softmaxes and GELU spend most
// of their time here, and math.Exp, which works in float64, takes about twice as long.
// Results below e^-87 ≈ 1.6e-38 are flushed to zero; they vanish beside the sums they join.
func exp32(x float32) float32 {
	if x > maxArg {
		return float32(math.Inf(1))
	}
	if x < minArg {
		return 0
	}
	if x != x {
		return x
	}
	t := x*log2e + roundMagic
	n := t - roundMagic
	r := x - n*ln2Hi - n*ln2Lo
	p := ((((expP5*r+expP4)*r+expP3)*r+expP2)*r+expP1)*r + expP0
	p = p*r*r + r + 1
	return math.Float32frombits(math.Float32bits(p) + (math.Float32bits(t)-math.Float32bits(roundMagic))<<23)
}
