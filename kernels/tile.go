package kernels

// A gemmTile is a micro-kernel of the matrix product: its run computes one mr×nr tile of
// C = alpha·A·B + beta·C over kc steps of k, with every accumulator in a register. A's element
// (r, p) is at a + r·rowStride + p·kStride bytes, so that one kernel reads a row-major A, a
// transposed A and a packed edge panel without copying them; B is packed, nr floats a step
// (see packB); C's rows are ldc floats apart. With beta = 0, C is written without being read.
//
// run is a method that calls the kernel directly rather than a function value, so that the
// compiler can see that the pointers passed do not escape and keep the edge buffers on the
// stack.
type gemmTile struct {
	mr, nr int
	kernel tileKernel
}

// tileKernel names a micro-kernel of one architecture (see cpu_amd64.go).
type tileKernel int

// The blocking of tiledGemm. A block of B, tileKC × tileNC floats (512 KiB), is packed once and
// stays in the L2 cache while every row panel of A passes over it; each row panel (mr × tileKC,
// up to 12 KiB) stays in L1 while the tiles of one block row are computed against it.
const (
	tileKC = 256
	tileNC = 512
	// maxTileMR and maxTileNR bound the tiles of every path, for the edge buffers.
	maxTileMR = 12
	maxTileNR = 32
)

// packedB holds the packed blocks of B.
var packedB bufPool

// pickTile returns the micro-kernel for a product with n columns: the widest whose columns
// a narrow C does not leave mostly empty.
func pickTile(tiles []gemmTile, n int) *gemmTile {
	for i := range tiles {
		if tiles[i].nr <= n || i == len(tiles)-1 {
			return &tiles[i]
		}
	}
	return nil
}

// tiledGemm computes C = alpha·op(A)·op(B) + beta·C with micro-kernel t, for checked
// arguments with m, n, k > 0 and alpha ≠ 0. With parallel set, a product large enough is split
// once among goroutines, each of which multiplies its part on its own (tiledGemmSerial): by
// rows of C when there are enough of them, else by columns, else, for the weight gradients'
// products of few rows and columns over thousands of tokens, by ranges of k whose partial
// products are summed. Splitting each packed block instead would wake the goroutines once a
// block: at the weight gradients' shapes that took longer than the block's products.
func tiledGemm(t *gemmTile, parallel bool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	workers := 1
	if parallel {
		workers = workersFor(m, n*k)
	}
	if workers <= 1 {
		tiledGemmSerial(t, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	// op(A)'s element (i, p) is a[i*ars+p*aks] and op(B)'s element (p, j) is b[p*bks+j*bcs].
	ars, aks, bks, bcs := lda, 1, ldb, 1
	if transA {
		ars, aks = 1, lda
	}
	if transB {
		bks, bcs = 1, ldb
	}
	rowPanels, colPanels := (m+t.mr-1)/t.mr, (n+t.nr-1)/t.nr
	longK := k >= splitK*max(m, n)
	switch {
	case !longK && (rowPanels >= splitPanels*workers || rowPanels >= colPanels):
		parallelFor(workers, m*n*k/workers, func(lo, hi int) {
			for w := lo; w < hi; w++ {
				r0, r1 := rowPanels*w/workers*t.mr, min(m, rowPanels*(w+1)/workers*t.mr)
				tiledGemmSerial(t, transA, transB, r1-r0, n, k, alpha, a[r0*ars:], lda, b, ldb, beta, c[r0*ldc:], ldc)
			}
		})
	case !longK:
		parallelFor(workers, m*n*k/workers, func(lo, hi int) {
			for w := lo; w < hi; w++ {
				c0, c1 := colPanels*w/workers*t.nr, min(n, colPanels*(w+1)/workers*t.nr)
				tiledGemmSerial(t, transA, transB, m, c1-c0, k, alpha, a, lda, b[c0*bcs:], ldb, beta, c[c0:], ldc)
			}
		})
	default:
		// Each worker past the first sums its range of k into a C of its own, which is added to
		// C once all have finished.
		partial := partialC.get((workers - 1) * m * n)
		defer partialC.put(partial)
		parallelFor(workers, m*n*k/workers, func(lo, hi int) {
			for w := lo; w < hi; w++ {
				k0, k1 := k*w/workers, k*(w+1)/workers
				if w == 0 {
					tiledGemmSerial(t, transA, transB, m, n, k1-k0, alpha, a, lda, b, ldb, beta, c, ldc)
					continue
				}
				tiledGemmSerial(t, transA, transB, m, n, k1-k0, alpha, a[k0*aks:], lda, b[k0*bks:], ldb, 0, (*partial)[(w-1)*m*n:], n)
			}
		})
		for w := 1; w < workers; w++ {
			for i := range m {
				row := c[i*ldc : i*ldc+n]
				Add(row, row, (*partial)[((w-1)*m+i)*n:][:n])
			}
		}
	}
}

// A product whose k is splitK times its larger side of C or more is split along k: split by
// rows, each worker would pack all of a B of k × n for its few rows (at 64 × 256 × 8192, half
// the time of the products). Others are split by rows when they have splitPanels row panels a
// worker, or more row panels than column panels, and by columns otherwise.
const (
	splitPanels = 4
	splitK      = 8
)

// partialC holds the partial products of a product split along k.
var partialC bufPool

// tiledGemmSerial is tiledGemm on the calling goroutine.
//
// A is never copied except for a last panel of fewer than mr rows, because a product at the
// model's shapes (6144 rows of 64 to 256 columns against a few hundred) would spend as long
// packing A as multiplying it: a panel's rows are read in place, along k for a row-major A and
// across it for a transposed one.
func tiledGemmSerial(t *gemmTile, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := t.mr, t.nr
	kc, nc := min(k, tileKC), min((n+nr-1)/nr*nr, tileNC)
	bp := packedB.get(kc * nc)
	defer packedB.put(bp)
	blk := tileBlock{t: t, m: m, n: n, alpha: alpha, a: a, rowStride: lda, kStride: 1, c: c, ldc: ldc}
	if transA {
		blk.rowStride, blk.kStride = 1, lda
	}
	panels := (m + mr - 1) / mr
	for blk.j0 = 0; blk.j0 < n; blk.j0 += nc {
		blk.nb = min(nc, n-blk.j0)
		for blk.p0 = 0; blk.p0 < k; blk.p0 += kc {
			blk.kb = min(kc, k-blk.p0)
			blk.b = (*bp)[:blk.kb*((blk.nb+nr-1)/nr*nr)]
			packB(blk.b, nr, transB, b, ldb, blk.p0, blk.kb, blk.j0, blk.nb)
			blk.beta = beta
			if blk.p0 > 0 {
				blk.beta = 1 // later blocks of k add to what the first wrote
			}
			blk.rows(0, panels)
		}
	}
}

// A tileBlock is one packed block of B, rows [p0, p0+kb) and columns [j0, j0+nb) of op(B),
// against which the row panels of op(A) run; op(A)'s element (i, p) is
// a[i*rowStride+p*kStride].
type tileBlock struct {
	t                  *gemmTile
	m, n               int
	alpha, beta        float32
	a                  []float32
	rowStride, kStride int
	b                  []float32
	c                  []float32
	ldc                int
	j0, nb, p0, kb     int
}

// rows computes the tiles of row panels [lo, hi) of the block.
func (blk *tileBlock) rows(lo, hi int) {
	t, mr, nr, kb := blk.t, blk.t.mr, blk.t.nr, blk.kb
	var edgeA [tileKC * maxTileMR]float32
	var edgeC [maxTileMR * maxTileNR]float32
	for panel := lo; panel < hi; panel++ {
		i := panel * mr
		h := min(mr, blk.m-i)
		first := i*blk.rowStride + blk.p0*blk.kStride
		ap, rs, ks := &blk.a[first], blk.rowStride, blk.kStride
		if h < mr {
			packEdgeA(edgeA[:kb*mr], mr, h, blk.a[first:], rs, ks, kb)
			ap, rs, ks = &edgeA[0], 1, mr
		}
		for jp := 0; jp*nr < blk.nb; jp++ {
			j, w := blk.j0+jp*nr, min(nr, blk.nb-jp*nr)
			panelB := &blk.b[jp*nr*kb]
			if h == mr && w == nr {
				t.run(kb, ap, 4*rs, 4*ks, panelB, &blk.c[i*blk.ldc+j], blk.ldc, blk.alpha, blk.beta)
				continue
			}
			t.run(kb, ap, 4*rs, 4*ks, panelB, &edgeC[0], nr, blk.alpha, 0)
			for r := range h {
				row, tile := blk.c[(i+r)*blk.ldc+j:(i+r)*blk.ldc+j+w], edgeC[r*nr:r*nr+w]
				if blk.beta == 0 {
					copy(row, tile)
					continue
				}
				for x, v := range tile {
					row[x] = v + blk.beta*row[x]
				}
			}
		}
	}
}

// packB writes op(B)'s block of rows [p0, p0+kb) and columns [j0, j0+nb) into dst as panels of
// nr columns: panel q holds, for each of the kb rows in turn, its nr values, the columns past
// the block's last zero.
func packB(dst []float32, nr int, transB bool, b []float32, ldb, p0, kb, j0, nb int) {
	for q := 0; q*nr < nb; q++ {
		panel := dst[q*nr*kb : (q+1)*nr*kb]
		j, w := j0+q*nr, min(nr, nb-q*nr)
		if w < nr {
			clear(panel)
		}
		if !transB {
			for p := range kb {
				copy(panel[p*nr:p*nr+w], b[(p0+p)*ldb+j:])
			}
			continue
		}
		for x := range w {
			col := b[(j+x)*ldb+p0 : (j+x)*ldb+p0+kb]
			for p, v := range col {
				panel[p*nr+x] = v
			}
		}
	}
}

// packEdgeA writes the h < mr rows of an A panel (element (r, p) at a[r*rowStride+p*kStride])
// into dst as kb steps of mr values, the rows past h zero.
func packEdgeA(dst []float32, mr, h int, a []float32, rowStride, kStride, kb int) {
	clear(dst)
	for r := range h {
		for p := range kb {
			dst[p*mr+r] = a[r*rowStride+p*kStride]
		}
	}
}
